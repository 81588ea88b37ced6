//! Who may act as an agent: tokens, each naming one person.

use baton_protocol::AgentProfile;
use serde::Deserialize;

use crate::error::{RelayError, RelayErrorKind};
use crate::queue::is_skill_name;
use crate::token::tokens_match;

/// The shortest agent token accepted, in bytes.
const MIN_TOKEN_LEN: usize = 16;

/// The id of the agent behind the shared token (`BATON_AGENT_TOKEN`).
const SHARED_TOKEN_AGENT_ID: &str = "agent";

/// Ids `BATON_AGENTS` may not use: a helpdesk's signed requests act as `helpdesk` (with
/// claims that never lapse), and the shared token as `agent`.
const RESERVED_IDS: [&str; 2] = [
    crate::signed_request::HELPDESK_AGENT_ID,
    SHARED_TOKEN_AGENT_ID,
];

/// One agent as the operator configures them (the `BATON_AGENTS` secret).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct AgentEntry {
    id: String,
    name: String,
    token: String,
    #[serde(default)]
    languages: Vec<String>,
    #[serde(default)]
    skills: Vec<String>,
    /// At most this many conversations at once on a site (at least 1); none: no limit.
    #[serde(default)]
    capacity: Option<u32>,
    /// The only sites the agent works on; none: every site.
    #[serde(default)]
    sites: Vec<String>,
}

impl AgentEntry {
    fn profile(&self) -> AgentProfile {
        AgentProfile {
            id: self.id.clone(),
            name: self.name.clone(),
            languages: self.languages.clone(),
            skills: self.skills.clone(),
            capacity: self.capacity,
            sites: self.sites.clone(),
        }
    }
}

/// Every agent the edge accepts, each with their own bearer token.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AgentDirectory {
    agents: Vec<AgentEntry>,
}

impl AgentDirectory {
    /// Parses the `BATON_AGENTS` JSON, a list such as
    /// `[{"id":"sam","name":"Sam","token":"…","languages":["en","fr"],"skills":["cards"],"capacity":3,"sites":["shop"]}]`.
    /// Refused, naming the entry and field: a token shorter than 16 bytes (it would be
    /// guessable), a capacity of 0, an id used twice or reserved (`helpdesk`, the
    /// signed requests' agent; `agent`, the shared token's), an empty site id.
    pub fn from_json(json: &str) -> Result<Self, RelayError> {
        let agents: Vec<AgentEntry> = serde_json::from_str(json)
            .map_err(|_| RelayError::new(RelayErrorKind::BadConfig, "BATON_AGENTS"))?;
        for (index, agent) in agents.iter().enumerate() {
            let taken = agents[..index].iter().any(|other| other.id == agent.id);
            if taken || agent.id.is_empty() || RESERVED_IDS.contains(&agent.id.as_str()) {
                return Err(RelayError::new(
                    RelayErrorKind::BadConfig,
                    format!("BATON_AGENTS[{index}].id"),
                ));
            }
            if let Some(bad) = agent.sites.iter().position(String::is_empty) {
                return Err(RelayError::new(
                    RelayErrorKind::BadConfig,
                    format!("BATON_AGENTS[{index}].sites[{bad}]"),
                ));
            }
            if agent.token.len() < MIN_TOKEN_LEN {
                return Err(RelayError::new(
                    RelayErrorKind::BadConfig,
                    format!("BATON_AGENTS[{index}].token"),
                ));
            }
            if agent.capacity == Some(0) {
                return Err(RelayError::new(
                    RelayErrorKind::BadConfig,
                    format!("BATON_AGENTS[{index}].capacity"),
                ));
            }
            if let Some(bad) = agent.skills.iter().position(|s| !is_skill_name(s)) {
                return Err(RelayError::new(
                    RelayErrorKind::BadConfig,
                    format!("BATON_AGENTS[{index}].skills[{bad}]"),
                ));
            }
        }
        Ok(AgentDirectory { agents })
    }

    /// Adds the single shared development token (`BATON_AGENT_TOKEN`) as one agent, on
    /// every site; none if it is empty. A token shorter than 16 bytes is refused.
    pub fn with_shared_token(mut self, token: &str) -> Result<Self, RelayError> {
        if token.is_empty() {
            return Ok(self);
        }
        if token.len() < MIN_TOKEN_LEN {
            return Err(RelayError::new(
                RelayErrorKind::BadConfig,
                "BATON_AGENT_TOKEN",
            ));
        }
        self.agents.push(AgentEntry {
            id: SHARED_TOKEN_AGENT_ID.to_owned(),
            name: "Support agent".to_owned(),
            token: token.to_owned(),
            languages: Vec::new(),
            skills: Vec::new(),
            capacity: None,
            sites: Vec::new(),
        });
        Ok(self)
    }

    /// The agent a bearer token belongs to. Every token is compared, in time that does
    /// not depend on which one matched.
    pub fn authenticate(&self, presented: &str) -> Option<AgentProfile> {
        let mut found = None;
        for agent in &self.agents {
            if tokens_match(presented, &agent.token) && found.is_none() {
                found = Some(agent);
            }
        }
        found.map(AgentEntry::profile)
    }

    /// The agent with this id, for transfers.
    pub fn by_id(&self, id: &str) -> Option<AgentProfile> {
        self.agents
            .iter()
            .find(|a| a.id == id)
            .map(AgentEntry::profile)
    }

    /// Every agent, without their tokens, for the console's transfer list.
    pub fn profiles(&self) -> Vec<AgentProfile> {
        self.agents.iter().map(AgentEntry::profile).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AGENTS: &str = r#"[
        {"id":"sam","name":"Sam","token":"sam-0123456789abcdef","languages":["en"]},
        {"id":"noor","name":"Noor","token":"noor-0123456789abcdef","languages":["ar","en"]}
    ]"#;

    #[test]
    fn each_token_names_its_agent() {
        let directory = AgentDirectory::from_json(AGENTS).unwrap();
        assert_eq!(
            directory.authenticate("sam-0123456789abcdef").unwrap().name,
            "Sam"
        );
        assert_eq!(
            directory.authenticate("noor-0123456789abcdef").unwrap().id,
            "noor"
        );
        assert!(directory.authenticate("sam-0123456789abcdeX").is_none());
        assert!(directory.authenticate("").is_none());
        assert_eq!(directory.by_id("noor").unwrap().languages, ["ar", "en"]);
        let listed = directory.profiles();
        assert_eq!(listed.len(), 2);
        assert!(
            !format!("{listed:?}").contains("0123456789"),
            "tokens never listed"
        );
    }

    #[test]
    fn shared_token_is_one_more_agent() {
        let directory = AgentDirectory::default()
            .with_shared_token("dev-0123456789abcdef")
            .unwrap();
        let agent = directory.authenticate("dev-0123456789abcdef").unwrap();
        assert_eq!(agent.id, "agent");
        assert!(agent.works_on("any-site"));
        let empty = AgentDirectory::default().with_shared_token("").unwrap();
        assert!(empty.authenticate("").is_none());
        let err = AgentDirectory::default()
            .with_shared_token("support")
            .unwrap_err();
        assert_eq!(err.field, "BATON_AGENT_TOKEN", "guessable");
    }

    #[test]
    fn an_agent_with_sites_works_on_those_only() {
        let json = r#"[{"id":"a","name":"A","token":"a-0123456789abcdef","sites":["shop-a"]},
                      {"id":"b","name":"B","token":"b-0123456789abcdef"}]"#;
        let directory = AgentDirectory::from_json(json).unwrap();
        let a = directory.authenticate("a-0123456789abcdef").unwrap();
        assert!(a.works_on("shop-a"));
        assert!(!a.works_on("shop-b"));
        assert!(
            directory.by_id("b").unwrap().works_on("shop-b"),
            "no list: every site"
        );
    }

    #[test]
    fn bad_config_names_the_setting_and_entry() {
        let err = AgentDirectory::from_json("{").unwrap_err();
        assert_eq!(err.field, "BATON_AGENTS");
        let short = r#"[{"id":"a","name":"A","token":"short"}]"#;
        let err = AgentDirectory::from_json(short).unwrap_err();
        assert_eq!(err.field, "BATON_AGENTS[0].token");
        let skill =
            r#"[{"id":"a","name":"A","token":"a-0123456789abcdef","skills":["ok","Not OK"]}]"#;
        let err = AgentDirectory::from_json(skill).unwrap_err();
        assert_eq!(err.field, "BATON_AGENTS[0].skills[1]");
        let none = r#"[{"id":"a","name":"A","token":"a-0123456789abcdef","capacity":0}]"#;
        let err = AgentDirectory::from_json(none).unwrap_err();
        assert_eq!(err.field, "BATON_AGENTS[0].capacity");
        let twice = r#"[{"id":"a","name":"A","token":"a-0123456789abcdef"},
                        {"id":"a","name":"Also A","token":"b-0123456789abcdef"}]"#;
        let err = AgentDirectory::from_json(twice).unwrap_err();
        assert_eq!(err.field, "BATON_AGENTS[1].id", "one id, two people");
        for reserved in ["helpdesk", "agent"] {
            let json =
                format!(r#"[{{"id":"{reserved}","name":"X","token":"x-0123456789abcdef"}}]"#);
            let err = AgentDirectory::from_json(&json).unwrap_err();
            assert_eq!(err.field, "BATON_AGENTS[0].id", "{reserved}");
        }
        let site = r#"[{"id":"a","name":"A","token":"a-0123456789abcdef","sites":[""]}]"#;
        let err = AgentDirectory::from_json(site).unwrap_err();
        assert_eq!(err.field, "BATON_AGENTS[0].sites[0]");
    }

    #[test]
    fn capacity_is_part_of_the_profile() {
        let json = r#"[{"id":"a","name":"A","token":"a-0123456789abcdef","capacity":2},
                      {"id":"b","name":"B","token":"b-0123456789abcdef"}]"#;
        let directory = AgentDirectory::from_json(json).unwrap();
        assert_eq!(directory.by_id("a").unwrap().capacity, Some(2));
        assert_eq!(directory.by_id("b").unwrap().capacity, None);
    }
}
