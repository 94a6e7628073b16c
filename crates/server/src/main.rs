//! `payment-server serve …` runs the reference server; `payment-server key`
//! makes a merchant secret key and prints the line its configuration keeps.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use ipnet::IpNet;
use payment_server::auth::{key_hash, new_key, KeyMode};
use payment_server::{serve, Config, Database, ServerOptions};

/// The reference backend of payment-selector's HTTP contract.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// How log lines are written: text for people, json for a log
    /// collector (one object a line, with the request's id).
    #[arg(long, value_enum, default_value_t = LogFormat::Text, global = true)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Serves the contract (and a built page, if given).
    Serve {
        /// Where to listen; port 0 takes a free one, which the first line
        /// the server prints names.
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: String,
        /// The database: a SQLite file (created, with its schema, when
        /// missing; one server), or a PostgreSQL URL
        /// (`postgres://user:password@host:5432/name`; any number of
        /// servers on it).
        #[arg(
            long,
            visible_alias = "db",
            default_value = ".data/payment-selector.sqlite"
        )]
        database: Database,
        /// Merchants, methods, webhooks and provider accounts (TOML). A
        /// live server needs one; a sandbox server has a demo default.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Run as a sandbox against the provider emulators at this address
        /// (payment-sandbox): test keys, demo endpoints, nothing charged.
        #[arg(long, value_name = "URL")]
        sandbox: Option<String>,
        /// A built page to serve beside /api.
        #[arg(long)]
        static_dir: Option<PathBuf>,
        /// Where providers and browsers reach this server (https, live).
        #[arg(long, value_name = "URL")]
        public_url: Option<String>,
        /// A proxy in front of the server (a TLS terminator, a load
        /// balancer) whose X-Forwarded-For names the shopper; repeat for
        /// several. Without it, the connection's peer is the shopper.
        #[arg(long, value_name = "CIDR")]
        trusted_proxy: Vec<IpNet>,
    },
    /// Makes a merchant secret key and prints its configuration line.
    Key {
        /// A key for a live server (sk_live_…) rather than a sandbox.
        #[arg(long)]
        live: bool,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "payment_server=info".into());
    let logs = tracing_subscriber::fmt().with_env_filter(filter);
    match cli.log_format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .init(),
    }
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("payment-server: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Key { live } => {
            let mode = if live { KeyMode::Live } else { KeyMode::Test };
            let key = new_key(mode);
            let hash = key_hash(&key).ok_or("a key of an unknown kind")?;
            println!("Give this key to the shop's server, and keep it nowhere else:\n\n  {key}\n");
            println!("Put this line in the merchant's entry of the configuration:\n\n  secret_key_hash = \"{hash}\"");
            Ok(())
        }
        Command::Serve {
            addr,
            database,
            config,
            sandbox,
            static_dir,
            public_url,
            trusted_proxy,
        } => {
            let config = match config {
                Some(path) => Some(Config::from_file(&path).map_err(|e| e.to_string())?),
                None => None,
            };
            let listener = tokio::net::TcpListener::bind(&addr)
                .await
                .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
            let mode = match &sandbox {
                Some(url) => format!(" (sandbox, providers at {url})"),
                None => " (live)".into(),
            };
            // The bound address, not the asked one: `--addr 127.0.0.1:0`
            // lets the system choose a free port, and this line names it.
            let bound = listener.local_addr().map_err(|e| e.to_string())?;
            println!("payment-server listening on http://{bound}{mode}, database {database}");
            let options = ServerOptions {
                database,
                config,
                sandbox,
                static_dir,
                public_url,
                trusted_proxies: trusted_proxy,
                ..ServerOptions::default()
            };
            serve(options, listener).await.map_err(|e| e.to_string())
        }
    }
}
