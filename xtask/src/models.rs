//! Each site's model (its intent model and knowledge base, one file): the demo's, and the
//! ones site owners train for their own sites with `baton train … --out models/<site>.bin`.
//! The build checks that every one loads, publishes it as `sites/<site>/model.bin` where
//! that site's widget fetches it, and says which sites of `BATON_SITES` have none.

use std::path::{Path, PathBuf};

use baton_relay::{validate_id, Limits, SiteDirectory};
use baton_triage::Engine;

use crate::build::copy_file;
use crate::error::io_error;
use crate::{workspace_root, Result, XtaskError};

/// Where site owners keep their models, one `<site>.bin` each.
pub(crate) fn site_models_dir() -> PathBuf {
    workspace_root().join("models")
}

/// A model file that loads, and the site it is published for.
#[derive(Debug)]
pub(crate) struct SiteModel {
    /// The site whose widget loads it: the file's name, as in `data-site`.
    pub(crate) site: String,
    /// The file.
    pub(crate) path: PathBuf,
    /// The site id of the knowledge base it was trained with.
    pub(crate) trained_for: String,
    /// How many answers its knowledge base has.
    pub(crate) answers: usize,
}

/// The models in `dir` (`<site>.bin`; other files are left alone), each checked. A folder
/// that does not exist holds none.
pub(crate) fn read_site_models(dir: &Path) -> Result<Vec<SiteModel>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(io_error("read", dir)(error)),
    };
    let mut models = Vec::new();
    for entry in entries {
        let path = entry.map_err(io_error("read", dir))?.path();
        if path.extension().is_some_and(|extension| extension == "bin") {
            models.push(check_site_model(&path)?);
        }
    }
    models.sort_by(|a, b| a.site.cmp(&b.site));
    Ok(models)
}

/// Checks that `path` is named after a site and loads as a model.
fn check_site_model(path: &Path) -> Result<SiteModel> {
    let problem = |problem: String| XtaskError::BadModel {
        path: path.to_owned(),
        problem,
    };
    let site = path
        .file_stem()
        .and_then(|stem| stem.to_str())
        .unwrap_or_default()
        .to_owned();
    validate_id(&site, "its name", &Limits::default()).map_err(|error| {
        problem(format!(
            "{error}: a model file is named after its site (`<site>.bin`, the widget's \
             data-site), 1 to 64 letters, digits, '-' and '_'"
        ))
    })?;
    let bytes = std::fs::read(path).map_err(io_error("read", path))?;
    let engine = Engine::from_bytes(&bytes).map_err(|error| {
        problem(format!(
            "not a usable model ({error}); train it again with `baton train`"
        ))
    })?;
    Ok(SiteModel {
        site,
        path: path.to_owned(),
        trained_for: engine.site_id().to_owned(),
        answers: engine.kb_entries().len(),
    })
}

/// Copies each model to `sites/<site>/model.bin` under `site_root`, saying so.
pub(crate) fn publish(models: &[SiteModel], site_root: &Path) -> Result<()> {
    for model in models {
        let to = site_root.join("sites").join(&model.site).join("model.bin");
        copy_file(&model.path, &to)?;
        let trained_for = if model.trained_for == model.site {
            String::new()
        } else {
            format!(
                ", trained with the knowledge base of site `{}`",
                model.trained_for
            )
        };
        println!(
            "site model: {} from {} ({} answers{trained_for})",
            model.site,
            model.path.display(),
            model.answers
        );
    }
    Ok(())
}

/// The sites of `BATON_SITES` in `wrangler.toml` with no model among `published`: their
/// widget answers nothing itself and offers a person for every question. Fails if
/// `BATON_SITES` itself would be refused by the edge.
pub(crate) fn sites_without_model(wrangler_toml: &str, published: &[&str]) -> Result<Vec<String>> {
    let config: toml::Table =
        toml::from_str(wrangler_toml).map_err(|error| XtaskError::BadConfig(error.to_string()))?;
    let Some(sites) = config
        .get("vars")
        .and_then(|vars| vars.get("BATON_SITES"))
        .and_then(|sites| sites.as_str())
    else {
        return Ok(Vec::new());
    };
    let sites = SiteDirectory::from_json(sites)
        .map_err(|error| XtaskError::BadConfig(format!("[vars] {error}")))?;
    Ok(sites
        .ids()
        .filter(|site| !published.contains(site))
        .map(str::to_owned)
        .collect())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A fresh folder under the target directory.
    fn scratch(name: &str) -> PathBuf {
        let dir = crate::cargo_target_dir()
            .join("xtask-tests")
            .join(format!("{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn demo_model() -> Vec<u8> {
        std::fs::read(workspace_root().join("crates/triage/data/demo/model.bin")).unwrap()
    }

    #[test]
    fn a_site_model_is_published_where_its_widget_fetches_it() {
        let dir = scratch("publish");
        std::fs::write(dir.join("acme-shop.bin"), demo_model()).unwrap();
        std::fs::write(dir.join("README.md"), "not a model").unwrap();
        let models = read_site_models(&dir).unwrap();
        assert_eq!(models.len(), 1);
        assert_eq!(models[0].site, "acme-shop");
        assert_eq!(models[0].trained_for, "demo");
        // One answer per entry of the knowledge base it was trained with.
        let kb = std::fs::read_to_string(workspace_root().join("crates/triage/data/demo/kb.toml"));
        assert_eq!(models[0].answers, kb.unwrap().matches("[[intent]]").count());

        let site_root = dir.join("site");
        publish(&models, &site_root).unwrap();
        let published = std::fs::read(site_root.join("sites/acme-shop/model.bin")).unwrap();
        assert_eq!(published, demo_model());
    }

    #[test]
    fn a_broken_model_stops_the_build_naming_the_file() {
        let dir = scratch("broken");
        let mut truncated = demo_model();
        truncated.truncate(truncated.len() / 2);
        std::fs::write(dir.join("acme.bin"), truncated).unwrap();
        let error = read_site_models(&dir).unwrap_err().to_string();
        assert!(error.contains("acme.bin"), "{error}");
        assert!(error.contains("train it again"), "{error}");
    }

    #[test]
    fn a_model_must_be_named_after_a_site() {
        let dir = scratch("badname");
        std::fs::write(dir.join("my shop.bin"), demo_model()).unwrap();
        let error = read_site_models(&dir).unwrap_err().to_string();
        assert!(error.contains("my shop.bin"), "{error}");
        assert!(error.contains("letters, digits"), "{error}");
    }

    #[test]
    fn a_missing_folder_holds_no_models() {
        let dir = scratch("missing").join("models");
        assert!(read_site_models(&dir).unwrap().is_empty());
    }

    #[test]
    fn sites_without_a_model_are_named_and_bad_sites_refused() {
        let wrangler = r#"
[vars]
BATON_SITES = '{"demo":{"allowed_origins":["*"]},"shop":{"allowed_origins":["*"]}}'
"#;
        assert_eq!(
            sites_without_model(wrangler, &["demo"]).unwrap(),
            vec!["shop".to_owned()]
        );
        assert!(sites_without_model(wrangler, &["demo", "shop"])
            .unwrap()
            .is_empty());
        let broken = "[vars]\nBATON_SITES = '{\"demo\": '\n";
        let error = sites_without_model(broken, &[]).unwrap_err().to_string();
        assert!(error.contains("BATON_SITES"), "{error}");
    }

    #[test]
    fn the_repository_configuration_is_valid() {
        let wrangler = std::fs::read_to_string(workspace_root().join("wrangler.toml")).unwrap();
        assert!(sites_without_model(&wrangler, &["demo"])
            .unwrap()
            .is_empty());
    }
}
