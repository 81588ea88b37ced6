//! Who may act as an agent: tokens, each naming one person.

use baton_protocol::AgentProfile;
use serde::Deserialize;

use crate::error::{RelayError, RelayErrorKind};
use crate::queue::is_skill_name;
use crate::token::tokens_match;

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
}

impl AgentEntry {
    fn profile(&self) -> AgentProfile {
        AgentProfile {
            id: self.id.clone(),
            name: self.name.clone(),
            languages: self.languages.clone(),
            skills: self.skills.clone(),
            capacity: self.capacity,
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
    /// `[{"id":"sam","name":"Sam","token":"…","languages":["en","fr"],"skills":["cards"],"capacity":3}]`.
    /// Tokens shorter than 16 bytes are refused: they would be guessable; so is a
    /// capacity of 0.
    pub fn from_json(json: &str) -> Result<Self, RelayError> {
        let agents: Vec<AgentEntry> = serde_json::from_str(json)
            .map_err(|_| RelayError::new(RelayErrorKind::BadConfig, "BATON_AGENTS"))?;
        for (index, agent) in agents.iter().enumerate() {
            if agent.token.len() < 16 {
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

    /// Adds the single shared development token (`BATON_AGENT_TOKEN`) as one agent.
    pub fn with_shared_token(mut self, token: &str) -> Self {
        if !token.is_empty() {
            self.agents.push(AgentEntry {
                id: "agent".to_owned(),
                name: "Support agent".to_owned(),
                token: token.to_owned(),
                languages: Vec::new(),
                skills: Vec::new(),
                capacity: None,
            });
        }
        self
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
        let directory = AgentDirectory::default().with_shared_token("dev-token");
        assert_eq!(directory.authenticate("dev-token").unwrap().id, "agent");
        let empty = AgentDirectory::default().with_shared_token("");
        assert!(empty.authenticate("").is_none());
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
