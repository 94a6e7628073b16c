//! A throwaway PostgreSQL server for the tests and the bench: a cluster
//! made by `initdb` in a temporary folder, started on a free port of the
//! loopback, stopped and removed when dropped. Debian's `postgresql`
//! package provides the programs (`cargo xtask setup` installs it).
//! PostgreSQL refuses to run as root; under root the cluster belongs to
//! `nobody`.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{output_of, Result};

/// A running throwaway server.
pub struct Throwaway {
    folder: PathBuf,
    bin: PathBuf,
    owner: Option<String>,
    /// A URL with a user that may create databases.
    pub url: String,
}

/// Where `initdb` and `pg_ctl` are: on PATH, or in the newest of Debian's
/// `/usr/lib/postgresql/<version>/bin`.
pub fn bin_dir() -> Option<PathBuf> {
    if let Some(found) = output_of("sh", &["-c", "command -v pg_ctl"]) {
        let real = std::fs::canonicalize(found.trim()).ok()?;
        return real.parent().map(Path::to_path_buf);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("pg_ctl").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

impl Throwaway {
    /// Makes and starts a cluster for tests: it skips the disk's flushes.
    pub fn start() -> Result<Throwaway> {
        Throwaway::start_with(false)
    }

    /// Makes and starts a cluster that flushes each commit to the disk, as
    /// a production server does (and as the reference server's SQLite
    /// does): for measuring.
    pub fn start_durable() -> Result<Throwaway> {
        Throwaway::start_with(true)
    }

    fn start_with(durable: bool) -> Result<Throwaway> {
        let bin = bin_dir()
            .ok_or("PostgreSQL is not installed (cargo xtask setup installs it)".to_owned())?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map_err(|e| format!("no free port: {e}"))?
            .port();
        let root_user = output_of("id", &["-u"]).is_some_and(|id| id.trim() == "0");
        // nobody must be able to reach it: not under root's own TMPDIR.
        let temporary = match root_user {
            true => PathBuf::from("/tmp"),
            false => std::env::temp_dir(),
        };
        let folder = temporary.join(format!("payment-selector-pg-{port}"));
        if folder.exists() {
            std::fs::remove_dir_all(&folder).map_err(|e| format!("{}: {e}", folder.display()))?;
        }
        std::fs::create_dir_all(&folder).map_err(|e| format!("{}: {e}", folder.display()))?;
        let owner = root_user.then(|| "nobody".to_owned());
        if let Some(owner) = &owner {
            let handed = Command::new("chown")
                .arg(format!("{owner}:"))
                .arg(&folder)
                .status()
                .is_ok_and(|status| status.success());
            if !handed {
                return Err(format!("cannot hand {} to {owner}", folder.display()));
            }
        }
        let throwaway = Throwaway {
            url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
            folder,
            bin,
            owner,
        };
        let data = throwaway.folder.join("data");
        throwaway.run(
            "initdb a throwaway PostgreSQL cluster",
            throwaway
                .command("initdb")
                .args(["--username=postgres", "--auth=trust", "--no-locale"])
                .args(["--encoding=UTF8", "--no-sync", "--pgdata"])
                .arg(&data),
        )?;
        // Not durable: a test cluster need not outlive a power cut, and
        // the tests then wait on the disk less. Sockets in its own folder.
        let flushes = if durable {
            ""
        } else {
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        };
        let settings = format!(
            "-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} \
             -c max_connections=300{flushes}",
            throwaway.folder.display()
        );
        throwaway.run(
            &format!("start it on 127.0.0.1:{port}"),
            throwaway
                .command("pg_ctl")
                .args(["--wait", "--silent", "--pgdata"])
                .arg(&data)
                .arg("--log")
                .arg(throwaway.folder.join("server.log"))
                .args(["--options", &settings, "start"]),
        )?;
        Ok(throwaway)
    }

    /// One of the server's programs, run as the cluster's owner from the
    /// cluster's folder (PostgreSQL 15 changes back into the directory it
    /// started in, which its owner may not be allowed to enter).
    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        let mut command = match &self.owner {
            Some(owner) => {
                let mut command = Command::new("runuser");
                command.args(["-u", owner, "--"]).arg(path);
                command
            }
            None => Command::new(path),
        };
        command.current_dir(&self.folder);
        command
    }

    /// Runs `command`; when it fails, says why with the server's log (which
    /// goes with the folder).
    fn run(&self, title: &str, command: &mut Command) -> Result {
        println!("\n==> {title}");
        let status = command
            .status()
            .map_err(|e| format!("{title}: cannot run: {e}"))?;
        if status.success() {
            return Ok(());
        }
        let log = std::fs::read_to_string(self.folder.join("server.log")).unwrap_or_default();
        Err(format!("{title}: {status}\n{log}"))
    }
}

impl Drop for Throwaway {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .args(["--silent", "--mode=immediate", "--pgdata"])
            .arg(self.folder.join("data"))
            .arg("stop")
            .status();
        let _ = std::fs::remove_dir_all(&self.folder);
    }
}
