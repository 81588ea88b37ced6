//! The one error type of the xtask commands.

use std::path::PathBuf;

use thiserror::Error;

/// What can stop a project command.
#[derive(Debug, Error)]
pub(crate) enum XtaskError {
    /// The command line was not understood.
    #[error("{0}")]
    Usage(String),
    /// A program exited with a failure.
    #[error("`{command}` failed ({status})")]
    CommandFailed {
        /// The command as typed.
        command: String,
        /// How it ended.
        status: String,
    },
    /// A program could not be started at all.
    #[error("could not start `{command}`: {source}")]
    Spawn {
        /// The command as typed.
        command: String,
        /// Why.
        source: std::io::Error,
    },
    /// A file operation failed.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// On which path.
        path: PathBuf,
        /// Why it failed.
        source: std::io::Error,
    },
    /// Something needed is missing and cannot be installed here.
    #[error("{0}")]
    Missing(String),
    /// A site's model cannot be published: what is wrong with which file.
    #[error("{}: {problem}", path.display())]
    BadModel {
        /// The model file.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// The edge's configuration in `wrangler.toml` would not work.
    #[error("wrangler.toml: {0}")]
    BadConfig(String),
    /// Two things the project builds, which must agree, do not.
    #[error("{0}")]
    BuildsDisagree(String),
    /// A server did not come up.
    #[error("{0}")]
    ServerNotReady(String),
}

/// The xtask result type.
pub(crate) type Result<T, E = XtaskError> = std::result::Result<T, E>;

/// Wraps an I/O error with what was done and where.
pub(crate) fn io_error(
    action: &'static str,
    path: impl Into<PathBuf>,
) -> impl FnOnce(std::io::Error) -> XtaskError {
    let path = path.into();
    move |source| XtaskError::Io {
        action,
        path,
        source,
    }
}
