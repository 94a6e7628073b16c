//! What the reference server takes: intents created over HTTP by 1, 8 and
//! 64 concurrent clients (each request with its own Idempotency-Key, on
//! the server's real SQLite file), beside a ceiling on this machine that
//! does, in-process and from the same number of tasks, the work no correct
//! create can skip: the intent's claim on its key (an insert), the
//! request's RSA signature, the provider's signature of its answer, the
//! answer's verification, and the hand-off recorded (an update). With a
//! PostgreSQL server, the same creates again on PostgreSQL, through one
//! server and through two on one database (the clients split between
//! them, as a load balancer would).

use std::sync::Arc;

use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    KeyPair, RsaKeyPair, UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256,
};
use std::time::{Duration, Instant};

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use tokio::net::TcpListener;
use tokio::sync::Mutex;

use crate::stats::Sample;

const MERCHANT_KEY: &str = "sk_test_demo_merchant";

/// 2100-01-01, as Unix seconds: the ceiling's intents never expire while
/// the bench runs.
const FAR_FUTURE: i64 = 4_102_444_800;

/// The numbers for one level of concurrency.
pub struct Level {
    /// Concurrent clients (or tasks).
    pub clients: usize,
    /// Intents created per second, and each request's latency.
    pub served: (f64, Sample),
    /// Creates per second of the same irreducible work, in-process, and
    /// each create's latency there.
    pub ceiling: (f64, Sample),
}

/// The creates through servers on PostgreSQL, at one level.
pub struct Scaled {
    /// How many servers shared the database.
    pub servers: usize,
    /// Concurrent clients.
    pub clients: usize,
    /// Intents created per second, and each request's latency.
    pub served: (f64, Sample),
}

/// Measures `requests` creates at each level through one server, then
/// through two, each time on a new database on the PostgreSQL server at
/// `admin` (a URL whose user may create databases).
pub async fn create_intents_on_postgres(
    admin: &str,
    requests: usize,
) -> Result<Vec<Scaled>, String> {
    let sandbox = crate::site::start_sandbox().await?;
    let mut rows = vec![];
    for servers in [1, 2] {
        let database = new_postgres_database(admin).await?;
        let mut bases = vec![];
        for _ in 0..servers {
            bases.push(start_server(database.clone(), &sandbox).await?);
        }
        let http = reqwest::Client::new();
        for clients in [1, 8, 64] {
            let sessions = open_sessions(&http, &bases[0], requests).await?;
            let served = serve_level(&http, &bases, sessions, clients).await?;
            println!(
                "    PostgreSQL, {servers} server(s), {clients} clients: {:.0} creates/s",
                served.0
            );
            rows.push(Scaled {
                servers,
                clients,
                served,
            });
        }
    }
    Ok(rows)
}

/// A new, empty database on the PostgreSQL server at `admin`.
async fn new_postgres_database(admin: &str) -> Result<server::Database, String> {
    use sqlx::Connection;
    let name = format!(
        "bench_{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_err(|e| e.to_string())?
            .as_nanos()
    );
    let mut connection = sqlx::PgConnection::connect(admin)
        .await
        .map_err(|e| format!("{admin}: {e}"))?;
    sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
        .execute(&mut connection)
        .await
        .map_err(|e| e.to_string())?;
    let _ = connection.close().await;
    let mut url = url::Url::parse(admin).map_err(|e| e.to_string())?;
    url.set_path(&name);
    Ok(server::Database::Postgres(url.to_string()))
}

/// A reference server on `database`, in sandbox mode; its API's base URL.
async fn start_server(database: server::Database, sandbox: &str) -> Result<String, String> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let base = format!(
        "http://{}/api",
        listener.local_addr().map_err(|e| e.to_string())?
    );
    let options = server::ServerOptions {
        database,
        sandbox: Some(sandbox.to_owned()),
        ..server::ServerOptions::default()
    };
    tokio::spawn(async move {
        if let Err(error) = server::serve(options, listener).await {
            eprintln!("payment-bench: a load server stopped: {error}");
        }
    });
    // Answering once its database is open and migrated.
    let http = reqwest::Client::new();
    for _ in 0..200 {
        if let Ok(answer) = http
            .get(format!("{}/readyz", base.trim_end_matches("/api")))
            .send()
            .await
        {
            if answer.status().is_success() {
                return Ok(base);
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(format!("the load server at {base} never became ready"))
}

/// Measures each level with `requests` creates.
pub async fn create_intents(requests: usize) -> Result<Vec<Level>, String> {
    let folder = tempfile::tempdir().map_err(|e| e.to_string())?;
    let database = folder.path().join("load.sqlite");
    let sandbox = crate::site::start_sandbox().await?;
    let base = start_server(server::Database::Sqlite(database.clone()), &sandbox).await?;
    let http = reqwest::Client::new();
    let keys = Arc::new(Keys::generate()?);
    let mut levels = vec![];
    for clients in [1, 8, 64] {
        let sessions = open_sessions(&http, &base, requests).await?;
        let served = serve_level(&http, std::slice::from_ref(&base), sessions, clients).await?;
        // Sessions of its own: a session holds one payable intent at most.
        let sessions = open_sessions(&http, &base, requests).await?;
        let ceiling = ceiling_level(&database, &sessions, clients, &keys).await?;
        println!(
            "    {clients} clients: {:.0} creates/s; the same work in-process {:.0}/s",
            served.0, ceiling.0
        );
        levels.push(Level {
            clients,
            served,
            ceiling,
        });
    }
    Ok(levels)
}

/// A session and its client secret.
#[derive(Clone)]
struct Open {
    id: String,
    secret: String,
}

async fn open_sessions(
    http: &reqwest::Client,
    base: &str,
    count: usize,
) -> Result<Vec<Open>, String> {
    let mut sessions = Vec::with_capacity(count);
    for i in 0..count {
        let answer = http
            .post(format!("{base}/checkout-sessions"))
            .bearer_auth(MERCHANT_KEY)
            .json(&serde_json::json!({
                "amount": {"value": 12800, "currency": "CNY"},
                "reference": format!("load-{i}"),
                "return_url": "http://127.0.0.1/",
            }))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let created: contract::CreatedCheckoutSession =
            answer.json().await.map_err(|e| e.to_string())?;
        sessions.push(Open {
            id: created.session.id,
            secret: created.client_secret,
        });
    }
    Ok(sessions)
}

/// One WeChat Pay intent per session, `clients` requests at a time, the
/// clients spread over the servers at `bases`.
async fn serve_level(
    http: &reqwest::Client,
    bases: &[String],
    sessions: Vec<Open>,
    clients: usize,
) -> Result<(f64, Sample), String> {
    let queue = Arc::new(Mutex::new(sessions));
    let total = queue.lock().await.len();
    let started = Instant::now();
    let mut workers = vec![];
    for client in 0..clients {
        let base = bases[client % bases.len()].clone();
        let (queue, http) = (queue.clone(), http.clone());
        workers.push(tokio::spawn(async move {
            let mut latencies = vec![];
            loop {
                let Some(open) = queue.lock().await.pop() else {
                    return Ok(latencies);
                };
                let sent = Instant::now();
                let answer = http
                    .post(format!("{base}/checkout-sessions/{}/intents", open.id))
                    .bearer_auth(&open.secret)
                    .header("Idempotency-Key", format!("load-{}", open.id))
                    .json(&serde_json::json!({"method": "wechat_pay", "client": {"device": "desktop"}}))
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                if answer.status() != 201 {
                    return Err(format!("create-intent answered {}", answer.status()));
                }
                latencies.push(ms(sent.elapsed()));
            }
        }));
    }
    let mut sample = Sample::default();
    for worker in workers {
        for latency in worker.await.map_err(|e| e.to_string())?? {
            sample.push(latency);
        }
    }
    Ok((total as f64 / started.elapsed().as_secs_f64(), sample))
}

/// RSA-2048 keys as a create uses them: the merchant's, which signs the
/// request, and the provider's, which signs its answer.
struct Keys {
    merchant: RsaKeyPair,
    provider: RsaKeyPair,
}

impl Keys {
    fn generate() -> Result<Keys, String> {
        let key = || RsaKeyPair::generate(KeySize::Rsa2048).map_err(|e| e.to_string());
        Ok(Keys {
            merchant: key()?,
            provider: key()?,
        })
    }
}

/// The ceiling: `sessions.len()` creates' irreducible work, by `tasks`
/// tasks through a pool opened as the server opens its own: the claim
/// (an intent row inserted, one transaction), the request signed, the
/// answer signed and verified, the hand-off recorded (an update). Its
/// rate, and each create's latency.
async fn ceiling_level(
    database: &std::path::Path,
    sessions: &[Open],
    tasks: usize,
    keys: &Arc<Keys>,
) -> Result<(f64, Sample), String> {
    let options = SqliteConnectOptions::new()
        .filename(database)
        .journal_mode(SqliteJournalMode::Wal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10));
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await
        .map_err(|e| e.to_string())?;
    let queue = Arc::new(Mutex::new(sessions.to_vec()));
    let started = Instant::now();
    let mut workers = vec![];
    for _ in 0..tasks {
        let (queue, pool, keys) = (queue.clone(), pool.clone(), keys.clone());
        workers.push(tokio::spawn(async move {
            let mut latencies = vec![];
            loop {
                // Popped apart from the loop's head, so the queue's lock is
                // not held through the work.
                let next = queue.lock().await.pop();
                let Some(open) = next else { break };
                let begun = Instant::now();
                let id = format!("pi_ceiling_{}", open.id);
                sqlx::query(
                    "INSERT INTO payment_intents (id, session_id, idempotency_key,
                        request_fingerprint, method, flow, amount_value, currency, status,
                        expires_at, next_action, created_at, updated_at)
                     VALUES (?, ?, ?, 'f', 'wechat_pay', 'qr_code', 12800, 'CNY',
                        'processing', ?, NULL, 0, 0)",
                )
                .bind(&id)
                .bind(&open.id)
                .bind(format!("ceiling-{}", open.id))
                // Far off, so that the server's sweeper leaves the rows alone.
                .bind(FAR_FUTURE)
                .execute(&pool)
                .await
                .map_err(|e| e.to_string())?;
                let request = format!("POST\n/v3/pay/transactions/native\n0\n{id}\n{{}}\n");
                let answer =
                    format!("0\n{id}\n{{\"code_url\":\"weixin://wxpay/bizpayurl?pr={id}\"}}\n");
                sign(&keys.merchant, &request)?;
                let signature = sign(&keys.provider, &answer)?;
                UnparsedPublicKey::new(
                    &RSA_PKCS1_2048_8192_SHA256,
                    keys.provider.public_key().as_ref(),
                )
                .verify(answer.as_bytes(), &signature)
                .map_err(|e| e.to_string())?;
                sqlx::query(
                    "UPDATE payment_intents SET status = 'requires_action', next_action = ?,
                        updated_at = 1 WHERE id = ? AND status = 'processing'",
                )
                .bind(&answer)
                .bind(&id)
                .execute(&pool)
                .await
                .map_err(|e| e.to_string())?;
                latencies.push(ms(begun.elapsed()));
            }
            Ok::<_, String>(latencies)
        }));
    }
    let mut sample = Sample::default();
    for worker in workers {
        for latency in worker.await.map_err(|e| e.to_string())?? {
            sample.push(latency);
        }
    }
    Ok((
        sessions.len() as f64 / started.elapsed().as_secs_f64(),
        sample,
    ))
}

/// `message`'s RSA PKCS#1 v1.5 SHA-256 signature by `key`.
fn sign(key: &RsaKeyPair, message: &str) -> Result<Vec<u8>, String> {
    let mut signature = vec![0; key.public_modulus_len()];
    key.sign(
        &RSA_PKCS1_SHA256,
        &aws_lc_rs::rand::SystemRandom::new(),
        message.as_bytes(),
        &mut signature,
    )
    .map_err(|e| e.to_string())?;
    Ok(signature)
}

fn ms(elapsed: Duration) -> f64 {
    elapsed.as_secs_f64() * 1000.0
}
