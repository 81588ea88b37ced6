//! Per-site configuration: who may embed the widget, and what the site requires.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::error::{RelayError, RelayErrorKind};
use crate::outbox::validate_webhook_url;
use crate::queue::is_skill_name;

/// One site's settings, as the operator configures them.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteConfig {
    /// Origins (`scheme://host[:port]`) whose pages may use this site's widget.
    /// An empty list allows none; `"*"` allows any.
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    /// Whether escalations must carry a verified identity (`Baton.identify` with the
    /// HMAC of the user id under the site's secret in `BATON_IDENTITY_SECRETS`).
    #[serde(default)]
    pub require_identity: bool,
    /// Where to relay this site's events (Standard Webhooks), if anywhere: `https://`,
    /// or `http://` only for a loopback host. The secret is in `BATON_WEBHOOK_SECRETS`.
    #[serde(default)]
    pub webhook_url: Option<String>,
    /// Skills by name, each with the intents that need it, e.g.
    /// `{"cards": ["card_arrival", "lost_or_stolen_card"]}`. Agents with a skill see the
    /// conversations that need it first (see `route_for_agent`).
    #[serde(default)]
    pub skills: BTreeMap<String, Vec<String>>,
}

impl SiteConfig {
    /// Whether a browser request from `origin` may act for this site.
    pub fn allows_origin(&self, origin: &str) -> bool {
        self.allowed_origins
            .iter()
            .any(|allowed| allowed == "*" || allowed == origin)
    }

    /// The skill a conversation about `intent` needs, if the site names one.
    pub fn skill_for(&self, intent: &str) -> Option<&str> {
        self.skills
            .iter()
            .find(|(_, intents)| intents.iter().any(|i| i == intent))
            .map(|(skill, _)| skill.as_str())
    }

    fn validate_skills(&self, site: &str) -> Result<(), RelayError> {
        let mut seen = std::collections::BTreeSet::new();
        for (skill, intents) in &self.skills {
            if !is_skill_name(skill) {
                return Err(RelayError::new(
                    RelayErrorKind::BadConfig,
                    format!("BATON_SITES.{site}.skills.{skill}"),
                ));
            }
            // One skill per intent, so routing never depends on map order.
            if let Some(index) = intents.iter().position(|intent| !seen.insert(intent)) {
                return Err(RelayError::new(
                    RelayErrorKind::BadConfig,
                    format!("BATON_SITES.{site}.skills.{skill}[{index}]"),
                ));
            }
        }
        Ok(())
    }
}

/// All sites, by id, as parsed from the `BATON_SITES` JSON setting.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(transparent)]
pub struct SiteDirectory {
    sites: BTreeMap<String, SiteConfig>,
}

impl SiteDirectory {
    /// Parses the operator's JSON, e.g.
    /// `{"demo": {"allowed_origins": ["https://shop.example"]}}`.
    pub fn from_json(json: &str) -> Result<Self, RelayError> {
        let directory: SiteDirectory = serde_json::from_str(json)
            .map_err(|_| RelayError::new(RelayErrorKind::BadConfig, "BATON_SITES"))?;
        for (site, config) in &directory.sites {
            if let Some(url) = &config.webhook_url {
                validate_webhook_url(url, &format!("BATON_SITES.{site}.webhook_url"))?;
            }
            config.validate_skills(site)?;
        }
        Ok(directory)
    }

    /// The configuration of `site`, if it exists.
    pub fn get(&self, site: &str) -> Option<&SiteConfig> {
        self.sites.get(site)
    }

    /// Every site's id, in order.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.sites.keys().map(String::as_str)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn origins_match_exactly_or_by_wildcard() {
        let sites = SiteDirectory::from_json(
            r#"{"demo":{"allowed_origins":["https://shop.example"]},"open":{"allowed_origins":["*"]}}"#,
        )
        .unwrap();
        let demo = sites.get("demo").unwrap();
        assert!(demo.allows_origin("https://shop.example"));
        assert!(!demo.allows_origin("https://shop.example.evil"));
        assert!(sites
            .get("open")
            .unwrap()
            .allows_origin("https://anything.example"));
        assert!(sites.get("missing").is_none());
    }

    #[test]
    fn broken_config_names_the_setting() {
        let err = SiteDirectory::from_json(r#"{"demo":{"allowed_origin":[]}}"#).unwrap_err();
        assert_eq!(err.field, "BATON_SITES");
        assert_eq!(err.code(), "bad_config");
    }

    #[test]
    fn each_intent_needs_at_most_one_named_skill() {
        let sites = SiteDirectory::from_json(
            r#"{"demo":{"skills":{"cards":["card_arrival","lost_or_stolen_card"],"disputes":["transaction_charged_twice"]}}}"#,
        )
        .unwrap();
        let demo = sites.get("demo").unwrap();
        assert_eq!(demo.skill_for("lost_or_stolen_card"), Some("cards"));
        assert_eq!(
            demo.skill_for("transaction_charged_twice"),
            Some("disputes")
        );
        assert_eq!(demo.skill_for("exchange_rate"), None);
        let twice =
            r#"{"demo":{"skills":{"a":["card_arrival"],"b":["top_up_failed","card_arrival"]}}}"#;
        let err = SiteDirectory::from_json(twice).unwrap_err();
        assert_eq!(err.field, "BATON_SITES.demo.skills.b[1]");
        let err = SiteDirectory::from_json(r#"{"demo":{"skills":{"Cards!":[]}}}"#).unwrap_err();
        assert_eq!(err.field, "BATON_SITES.demo.skills.Cards!");
    }

    #[test]
    fn a_plain_http_webhook_url_is_refused_by_site() {
        let err =
            SiteDirectory::from_json(r#"{"demo":{"webhook_url":"http://helpdesk.example/h"}}"#)
                .unwrap_err();
        assert_eq!(err.field, "BATON_SITES.demo.webhook_url");
        assert_eq!(err.code(), "bad_webhook_url");
        let ok =
            SiteDirectory::from_json(r#"{"demo":{"webhook_url":"http://127.0.0.1:9/h"}}"#).unwrap();
        assert_eq!(
            ok.get("demo").unwrap().webhook_url.as_deref(),
            Some("http://127.0.0.1:9/h")
        );
    }
}
