//! Running programs: one-shot commands and long-running servers in their own process
//! group, so that stopping one stops everything it started.

use std::ffi::OsStr;
use std::io::Read;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{Result, XtaskError};

/// A command line being built, printed as typed when it fails.
pub(crate) struct Cmd {
    command: Command,
    display: String,
}

impl Cmd {
    /// `program`, run in the workspace root.
    pub(crate) fn new(program: impl AsRef<OsStr>) -> Self {
        let program = program.as_ref();
        let mut command = Command::new(program);
        command.current_dir(crate::workspace_root());
        Cmd {
            command,
            display: program.to_string_lossy().into_owned(),
        }
    }

    /// Adds arguments.
    pub(crate) fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        for arg in args {
            let arg = arg.as_ref();
            self.display.push(' ');
            self.display.push_str(&arg.to_string_lossy());
            self.command.arg(arg);
        }
        self
    }

    /// Sets an environment variable.
    pub(crate) fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.command.env(key, value);
        self
    }

    /// Runs in `dir` instead of the workspace root.
    pub(crate) fn dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.command.current_dir(dir);
        self
    }

    /// Runs to completion, output to the terminal; fails on a non-zero exit.
    pub(crate) fn run(mut self) -> Result<()> {
        let status = self.command.status().map_err(|source| XtaskError::Spawn {
            command: self.display.clone(),
            source,
        })?;
        if status.success() {
            Ok(())
        } else {
            Err(XtaskError::CommandFailed {
                command: self.display,
                status: status.to_string(),
            })
        }
    }

    /// Runs to completion and returns stdout, or `None` if it could not run or failed.
    pub(crate) fn output_if_ok(mut self) -> Option<String> {
        let output = self.command.stderr(Stdio::null()).output().ok()?;
        output
            .status
            .success()
            .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// Starts in its own process group; the returned guard stops the whole group.
    pub(crate) fn spawn_group(mut self, log: Option<&Path>) -> Result<ProcessGroup> {
        self.command.process_group(0).stdin(Stdio::null());
        if let Some(log) = log {
            let file = std::fs::File::create(log).map_err(crate::error::io_error("create", log))?;
            let file2 = file
                .try_clone()
                .map_err(crate::error::io_error("open", log))?;
            self.command.stdout(file).stderr(file2);
        }
        let child = self.command.spawn().map_err(|source| XtaskError::Spawn {
            command: self.display.clone(),
            source,
        })?;
        Ok(ProcessGroup { child: Some(child) })
    }
}

/// A running process group, stopped (TERM, then KILL) when dropped.
pub(crate) struct ProcessGroup {
    child: Option<Child>,
}

impl ProcessGroup {
    /// Whether the leader has exited.
    pub(crate) fn has_exited(&mut self) -> bool {
        match self.child.as_mut() {
            Some(child) => !matches!(child.try_wait(), Ok(None)),
            None => true,
        }
    }

    /// Stops the group: SIGTERM, a grace period, then SIGKILL.
    pub(crate) fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let group = format!("-{}", child.id());
        let _ = Command::new("kill")
            .args(["-TERM", "--", &group])
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = child.wait();
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
pub(crate) fn free_port() -> Result<u16> {
    let listener = TcpListener::bind(("127.0.0.1", 0))
        .map_err(crate::error::io_error("bind", "127.0.0.1:0"))?;
    let port = listener
        .local_addr()
        .map_err(crate::error::io_error("read address of", "127.0.0.1:0"))?
        .port();
    Ok(port)
}

/// Polls `http://127.0.0.1:port/path` until it answers 200, the server dies, or the
/// timeout passes.
pub(crate) fn wait_for_http(
    port: u16,
    path: &str,
    timeout: Duration,
    server: &mut ProcessGroup,
    log: &Path,
) -> Result<()> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if server.has_exited() {
            return Err(XtaskError::ServerNotReady(format!(
                "the server exited before it was ready; its log is {}",
                log.display()
            )));
        }
        if http_get_status(port, path) == Some(200) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    Err(XtaskError::ServerNotReady(format!(
        "no answer on 127.0.0.1:{port}{path} after {}s; its log is {}",
        timeout.as_secs(),
        log.display()
    )))
}

/// A minimal HTTP/1.1 GET, for readiness checks only.
fn http_get_status(port: u16, path: &str) -> Option<u16> {
    use std::io::Write;
    let mut stream = std::net::TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_secs(1),
    )
    .ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).ok()?;
    std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
}
