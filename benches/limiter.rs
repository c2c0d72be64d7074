//! What the Limiter costs a command, with 1,000 concurrent sessions.
//!
//! `cargo bench --bench limiter` starts the Limiter as `serve` does (its own arbiter,
//! sessions on one arbiter per core) and runs 1,000 sessions at once. Each is admitted
//! (MaxConnections, MaxConnectionsFromSingleIP), logs in (MaxConnectionsPerUser) and then
//! runs FETCHes: each takes a FETCH slot (per user and per server) and gives it back.
//!
//! - Paced: a pause of 0–1 s between a session's commands, as mail clients pause
//!   (about 2,000 commands a second in all, from 1,000 open sessions). The latency of
//!   every exchange with the Limiter is recorded: median and 99th percentile. For
//!   comparison, each command also asks an actor that does nothing, on an arbiter of
//!   its own like the Limiter: what any hand-off between threads costs here.
//! - Saturated: every session asks again at once; the figure is slots per second, the
//!   most the Limiter grants and takes back.
//!
//! Limits are set high enough that nothing waits in a queue: this measures the cost of
//! asking, not of waiting.

use mailhive::config::{Protocol, ProtocolSettings, Setting, Source};
use mailhive::limiter::{acquire_slot, admit, Limiter, Login, SlotKind};
use mailhive_store::Username;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

const SESSIONS: usize = 1_000;
/// FETCHes per session, paced and saturated.
const PACED: usize = 20;
const SATURATED: usize = 200;

/// One session's measured exchanges, in nanoseconds.
#[derive(Default)]
struct Samples {
    admit: Vec<u64>,
    login: Vec<u64>,
    fetch: Vec<u64>,
    echo: Vec<u64>,
}

/// An actor that answers at once: the cost of a round trip to another arbiter.
struct Echo;

impl actix::Actor for Echo {
    type Context = actix::Context<Self>;
}

#[derive(actix::Message)]
#[rtype(result = "()")]
struct Ping;

impl actix::Handler<Ping> for Echo {
    type Result = ();

    fn handle(&mut self, _: Ping, _: &mut actix::Context<Self>) {}
}

fn settings(protocol: Protocol) -> watch::Receiver<Arc<ProtocolSettings>> {
    let mut settings = ProtocolSettings::defaults(protocol);
    for (setting, value) in [
        (Setting::MaxConnections, 100_000),
        (Setting::MaxConnectionsFromSingleIp, 100_000),
        (Setting::MaxConcurrentFetchesPerServer, 100_000),
    ] {
        settings.put(setting, value, Source::Config);
    }
    let (sender, receiver) = watch::channel(Arc::new(settings));
    std::mem::forget(sender); // the settings never change during the run
    receiver
}

fn nanos(since: Instant) -> u64 {
    since.elapsed().as_nanos() as u64
}

/// A pause of 0–1 s, from a cheap per-session sequence.
fn pause(seed: &mut u64) -> Duration {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    Duration::from_micros(*seed % 1_000_000)
}

/// Takes a FETCH slot of `user` and gives it back; returns how long the taking took.
async fn fetch_slot(limiter: &actix::Addr<Limiter>, user: &Username) -> u64 {
    let never = CancellationToken::new();
    let started = Instant::now();
    let slot = acquire_slot(
        limiter,
        SlotKind::Fetch,
        user.clone(),
        Duration::from_secs(40),
        &never,
    )
    .await;
    let took = nanos(started);
    drop(slot.expect("a free slot"));
    took
}

async fn session(
    echo: actix::Addr<Echo>,
    limiter: actix::Addr<Limiter>,
    n: usize,
    start_together: Arc<tokio::sync::Barrier>,
) -> Samples {
    let mut samples = Samples::default();
    let mut seed = n as u64 + 1;
    tokio::time::sleep(pause(&mut seed)).await;
    let ip = format!("10.0.{}.{}", n / 250, n % 250)
        .parse()
        .expect("address");
    let started = Instant::now();
    let _connection = admit(&limiter, Protocol::Imap, ip).await.expect("admitted");
    samples.admit.push(nanos(started));
    let user = Username::parse(&format!("user{n}")).expect("user name");
    let started = Instant::now();
    let login = Login {
        protocol: Protocol::Imap,
        user: user.clone(),
    };
    let _login = limiter
        .send(login)
        .await
        .expect("answer")
        .expect("logged in");
    samples.login.push(nanos(started));
    for _ in 0..PACED {
        tokio::time::sleep(pause(&mut seed)).await;
        samples.fetch.push(fetch_slot(&limiter, &user).await);
        tokio::time::sleep(pause(&mut seed)).await;
        let started = Instant::now();
        echo.send(Ping).await.expect("echo");
        samples.echo.push(nanos(started));
    }
    // Saturated: everyone at once, again and again.
    start_together.wait().await;
    for _ in 0..SATURATED {
        fetch_slot(&limiter, &user).await;
    }
    samples
}

fn report(name: &str, mut nanos: Vec<u64>) {
    nanos.sort_unstable();
    let at = |q: f64| nanos[((nanos.len() - 1) as f64 * q) as usize] as f64 / 1_000.0;
    println!(
        "{name:<34} {:>8} samples  median {:>7.1} µs  p99 {:>8.1} µs",
        nanos.len(),
        at(0.5),
        at(0.99)
    );
    println!(
        "RESULT bench=limiter figure={name} median_us={:.1} p99_us={:.1}",
        at(0.5),
        at(0.99)
    );
}

fn main() {
    let system = actix_rt::System::new();
    let all = system.block_on(async {
        let limiter = Limiter::start([settings(Protocol::Imap), settings(Protocol::Pop3)]);
        let echo =
            <Echo as actix::Actor>::start_in_arbiter(&actix_rt::Arbiter::new().handle(), |_| Echo);
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let workers: Vec<actix_rt::Arbiter> =
            (0..cores).map(|_| actix_rt::Arbiter::new()).collect();
        let (done, mut results) = mpsc::unbounded_channel();
        // The sessions and this task meet when the paced part is over.
        let barrier = Arc::new(tokio::sync::Barrier::new(SESSIONS + 1));
        for n in 0..SESSIONS {
            let (limiter, done, barrier) = (limiter.clone(), done.clone(), barrier.clone());
            let echo = echo.clone();
            workers[n % cores].spawn(async move {
                let _ = done.send(session(echo, limiter, n, barrier).await);
            });
        }
        drop(done);
        barrier.wait().await;
        let started = Instant::now();
        let mut all = Samples::default();
        while let Some(samples) = results.recv().await {
            all.admit.extend(samples.admit);
            all.login.extend(samples.login);
            all.fetch.extend(samples.fetch);
            all.echo.extend(samples.echo);
        }
        let rate = (SESSIONS * SATURATED) as f64 / started.elapsed().as_secs_f64();
        println!("{SESSIONS} sessions on {cores} cores; saturated: {rate:.0} FETCH slots/s");
        println!("RESULT bench=limiter figure=saturated slots_per_s={rate:.0}");
        for worker in workers {
            worker.stop();
        }
        all
    });
    report("admission (per connection)", all.admit);
    report("login count (per login)", all.login);
    report("FETCH slot (per FETCH command)", all.fetch);
    report("round trip to an empty actor", all.echo);
}
