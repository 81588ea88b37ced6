//! JSON through the browser's own `JSON.parse` and `JSON.stringify`, with
//! serde-wasm-bindgen between Rust values and JavaScript ones, so the wasm carries no
//! JSON parser or printer of its own.
//!
//! The text is what serde_json writes for the same values (maps as objects, `None` as
//! `null`), so the edge reads the requests unchanged and conversations saved by earlier
//! versions still load. One difference in form only: an `f32` is written as its exact
//! `f64` expansion (`0.8500000238418579`, not `0.85`), which reads back as the same `f32`.

use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::JsValue;

/// Plain objects for maps, `null` for `None`: what `JSON.stringify` keeps as is.
const SERIALIZER: serde_wasm_bindgen::Serializer =
    serde_wasm_bindgen::Serializer::json_compatible();

/// `value` as JSON text; `None` if it has no JSON form (a number beyond 2^53, say).
pub fn to_text<T: Serialize + ?Sized>(value: &T) -> Option<String> {
    let value = value.serialize(&SERIALIZER).ok()?;
    js_sys::JSON::stringify(&value).ok()?.as_string()
}

/// A value parsed by the browser (`Response.json()`, `JSON.parse`) as `T`; `None` if it
/// does not have `T`'s shape.
pub fn from_js<T: DeserializeOwned>(value: JsValue) -> Option<T> {
    serde_wasm_bindgen::from_value(value).ok()
}

/// JSON text as `T`; `None` if it is not JSON or not of `T`'s shape.
pub fn from_text<T: DeserializeOwned>(text: &str) -> Option<T> {
    from_js(js_sys::JSON::parse(text).ok()?)
}

/// The JSON value kept under `key` in the browser's local storage, if any and readable.
pub fn load<T: DeserializeOwned>(key: &str) -> Option<T> {
    from_text(&local_storage()?.get_item(key).ok()??)
}

/// Keeps `value` as JSON under `key`; nothing happens if storage is full or disabled.
pub fn store<T: Serialize + ?Sized>(key: &str, value: &T) {
    if let Some((text, storage)) = to_text(value).zip(local_storage()) {
        let _ = storage.set_item(key, &text);
    }
}

/// Removes `key` from local storage.
pub fn forget(key: &str) {
    if let Some(storage) = local_storage() {
        let _ = storage.remove_item(key);
    }
}

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}
