//! `www/docs/openapi.json` as the tests read it: loading, `$ref`s, and a validator for
//! the JSON Schema keywords the spec uses, so the contract test and the webhook test
//! check what the edge sends against the same document.

use serde_json::Value;

const SPEC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../www/docs/openapi.json");

/// Keywords [`validate`] checks.
pub const VALIDATED: [&str; 15] = [
    "$ref",
    "type",
    "enum",
    "const",
    "properties",
    "required",
    "additionalProperties",
    "propertyNames",
    "items",
    "oneOf",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "maxItems",
];

/// Keywords that only describe (`pattern` is documentation here: ids are checked by
/// the edge, and this crate has no regex engine).
pub const ANNOTATIONS: [&str; 4] = ["description", "example", "examples", "pattern"];

/// The spec, parsed.
pub fn spec() -> Value {
    let text = std::fs::read_to_string(SPEC).expect("www/docs/openapi.json is readable");
    serde_json::from_str(&text).expect("www/docs/openapi.json is JSON")
}

/// The value a local `$ref` (`#/components/...`) points at.
pub fn resolve<'a>(spec: &'a Value, reference: &str) -> Option<&'a Value> {
    spec.pointer(reference.strip_prefix('#')?)
}

/// Follows `$ref`s until a value without one.
pub fn deref<'a>(spec: &'a Value, mut value: &'a Value) -> &'a Value {
    while let Some(reference) = value.get("$ref").and_then(Value::as_str) {
        value = resolve(spec, reference).unwrap_or_else(|| panic!("unresolved {reference}"));
    }
    value
}

/// Whether `value` is of the JSON Schema type `kind`.
pub fn has_type(value: &Value, kind: &str) -> bool {
    match kind {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        _ => false,
    }
}

/// Checks `value` against `schema`, for the keywords in [`VALIDATED`]; adds one line
/// per problem to `errors`.
pub fn validate(spec: &Value, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        match resolve(spec, reference) {
            Some(target) => validate(spec, target, value, at, errors),
            None => errors.push(format!("{at}: unresolved {reference}")),
        }
        return;
    }
    if let Some(kind) = schema.get("type") {
        let kinds: Vec<&str> = match kind {
            Value::Array(kinds) => kinds.iter().filter_map(Value::as_str).collect(),
            other => other.as_str().into_iter().collect(),
        };
        if !kinds.iter().any(|kind| has_type(value, kind)) {
            errors.push(format!("{at}: expected {kinds:?}, got {value}"));
            return;
        }
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array) {
        if !allowed.contains(value) {
            errors.push(format!("{at}: {value} is not one of {allowed:?}"));
        }
    }
    if let Some(constant) = schema.get("const") {
        if constant != value {
            errors.push(format!("{at}: {value} is not {constant}"));
        }
    }
    if let (Some(min), Some(number)) = (
        schema.get("minimum").and_then(Value::as_f64),
        value.as_f64(),
    ) {
        if number < min {
            errors.push(format!("{at}: {number} is below {min}"));
        }
    }
    if let (Some(max), Some(number)) = (
        schema.get("maximum").and_then(Value::as_f64),
        value.as_f64(),
    ) {
        if number > max {
            errors.push(format!("{at}: {number} is above {max}"));
        }
    }
    if let Some(text) = value.as_str() {
        let length = text.chars().count() as u64;
        if schema
            .get("minLength")
            .and_then(Value::as_u64)
            .is_some_and(|min| length < min)
        {
            errors.push(format!("{at}: shorter than minLength"));
        }
        if schema
            .get("maxLength")
            .and_then(Value::as_u64)
            .is_some_and(|max| length > max)
        {
            errors.push(format!("{at}: longer than maxLength"));
        }
    }
    if let Some(variants) = schema.get("oneOf").and_then(Value::as_array) {
        let matching = variants
            .iter()
            .filter(|variant| {
                let mut problems = Vec::new();
                validate(spec, variant, value, at, &mut problems);
                problems.is_empty()
            })
            .count();
        if matching != 1 {
            errors.push(format!(
                "{at}: {matching} of oneOf's {} variants match {value}",
                variants.len()
            ));
        }
    }
    if let Some(object) = value.as_object() {
        for required in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let name = required.as_str().unwrap_or_default();
            if !object.contains_key(name) {
                errors.push(format!("{at}: missing required `{name}`"));
            }
        }
        let properties = schema.get("properties").and_then(Value::as_object);
        for (name, field) in object {
            let at = format!("{at}.{name}");
            if let Some(names) = schema.get("propertyNames") {
                validate(spec, names, &Value::String(name.clone()), &at, errors);
            }
            match (
                properties.and_then(|p| p.get(name)),
                schema.get("additionalProperties"),
            ) {
                (Some(property), _) => validate(spec, property, field, &at, errors),
                (None, Some(Value::Bool(false))) => errors.push(format!("{at}: not in the schema")),
                (None, Some(extra @ Value::Object(_))) => validate(spec, extra, field, &at, errors),
                (None, _) => {}
            }
        }
    }
    if let Some(items) = value.as_array() {
        if schema
            .get("maxItems")
            .and_then(Value::as_u64)
            .is_some_and(|max| items.len() as u64 > max)
        {
            errors.push(format!("{at}: more than maxItems"));
        }
        if let Some(item_schema) = schema.get("items") {
            for (index, item) in items.iter().enumerate() {
                validate(spec, item_schema, item, &format!("{at}[{index}]"), errors);
            }
        }
    }
}
