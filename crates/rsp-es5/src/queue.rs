//! The SM-SR's ES5 engine: a per-EID queue of card commands, drained whenever a transport can reach
//! the card (the card's HTTPS POSTs, or an SMS sent with its PoR awaited).
//!
//! Two layers:
//! - [`CommandQueue`] is the sans-IO core: plain data, time passed in as `now`, completions collected
//!   in an outbox ([`CommandQueue::poll_completion`]). It knows nothing of HTTP or SMS.
//! - [`Es5Queue`] is the shared async wrapper used by the transports and the SM-SR: a cloneable handle
//!   with an injected [`Clock`], per-entry completion receivers ([`Ticket`]), an optional stream of all
//!   completions ([`Es5Queue::subscribe`]), waiting for work ([`Es5Queue::next_for_within`]) and an
//!   expiry task ([`Es5Queue::run_expiry`]).
//!
//! # Rules (decisions U-25, U-27)
//! - Entries of one EID leave in the order they were queued (FIFO); the queue of one EID is bounded
//!   ([`QueueConfig::max_pending_per_eid`]).
//! - At most one entry per EID is in flight (handed to a transport, result not yet known). While one is
//!   in flight, [`CommandQueue::next_for`] answers [`Next::Busy`].
//! - An entry whose deadline passes while it waits is completed with [`Outcome::Expired`]. An entry in
//!   flight is not expired by its deadline (the card may already be executing it); it ends with the
//!   card's response, or, when the transport loses it, with `Expired` at release time.
//! - A transport that loses an entry (connection dropped, PoR never came) calls
//!   [`CommandQueue::release`]: the entry goes back to the head of its EID's queue and is sent again
//!   (at-least-once delivery), until [`QueueConfig::max_attempts`] dispatches have been made
//!   ([`Outcome::Undeliverable`]) or its deadline has passed. An entry in flight for longer than
//!   [`QueueConfig::in_flight_timeout`] is released the same way, so a transport that never reports
//!   cannot block an EID for ever.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use rsp_types::{Aid, Eid};
use tokio::sync::{Notify, mpsc, oneshot};

/// Identifier of a queued command, unique within one queue (never reused).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct EntryId(u64);

impl EntryId {
    /// Wraps a raw value (as found in an `X-Admin-Next-URI`).
    pub const fn from_u64(value: u64) -> EntryId {
        EntryId(value)
    }

    /// The raw value.
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for EntryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The security domain on the card that executes a script.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Target {
    /// The ISD-R (the security domain that runs the admin session): no
    /// `X-Admin-Targeted-Application` header.
    IsdR,
    /// An ISD-P, addressed with `X-Admin-Targeted-Application: //aid/<RID>/<PIX>` (ES8 traffic relayed
    /// from `ES3.SendData`).
    IsdP(Aid),
}

impl Target {
    /// The ISD-P AID when the target is an ISD-P.
    pub fn isd_p_aid(&self) -> Option<Aid> {
        match self {
            Target::IsdR => None,
            Target::IsdP(aid) => Some(*aid),
        }
    }
}

/// A command to queue for one card.
#[derive(Clone, Debug)]
pub struct NewCommand {
    /// The card.
    pub eid: Eid,
    /// Who on the card executes the script.
    pub target: Target,
    /// The remote command script (expanded format, `AA…`/`AE…`), opaque to the queue.
    pub script: Bytes,
    /// After this instant the command is not sent any more (the function's validity period).
    pub deadline: SystemTime,
    /// The caller's reference, returned unchanged in the [`Completion`].
    pub correlation: String,
}

/// The value of `X-Admin-Script-Status` (GP Amendment B) or its SMS equivalent.
///
/// Decision U-15: anything other than [`ScriptStatus::Ok`] is a failure; unknown values are kept
/// verbatim in [`ScriptStatus::Other`].
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum ScriptStatus {
    /// `ok`: the script was executed (the response script says how each command ended).
    Ok,
    /// `unknown-application`: the targeted application does not exist.
    UnknownApplication,
    /// `not-a-security-domain`: the targeted application is not a security domain.
    NotASecurityDomain,
    /// `security-error`: the script failed a security check.
    SecurityError,
    /// The card sent a response without the header.
    Missing,
    /// Any other value, as received (trimmed).
    Other(String),
}

impl ScriptStatus {
    /// Parses a header value, case-insensitively, ignoring surrounding white space.
    pub fn parse(value: &str) -> ScriptStatus {
        let v = value.trim();
        if v.eq_ignore_ascii_case("ok") {
            ScriptStatus::Ok
        } else if v.eq_ignore_ascii_case("unknown-application") {
            ScriptStatus::UnknownApplication
        } else if v.eq_ignore_ascii_case("not-a-security-domain") {
            ScriptStatus::NotASecurityDomain
        } else if v.eq_ignore_ascii_case("security-error") {
            ScriptStatus::SecurityError
        } else {
            ScriptStatus::Other(v.chars().take(128).collect())
        }
    }

    /// The header value to send; `None` for [`ScriptStatus::Missing`].
    pub fn header_value(&self) -> Option<&str> {
        match self {
            ScriptStatus::Ok => Some("ok"),
            ScriptStatus::UnknownApplication => Some("unknown-application"),
            ScriptStatus::NotASecurityDomain => Some("not-a-security-domain"),
            ScriptStatus::SecurityError => Some("security-error"),
            ScriptStatus::Missing => None,
            ScriptStatus::Other(v) => Some(v.as_str()),
        }
    }

    /// Whether the card reported success.
    pub fn is_ok(&self) -> bool {
        matches!(self, ScriptStatus::Ok)
    }
}

/// What the card answered to one script.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct CardResponse {
    /// The script status.
    pub status: ScriptStatus,
    /// The response script (`AB…`/`AF…`), possibly empty.
    pub data: Bytes,
}

/// A command handed to a transport: send `script` to `eid`, then report with
/// [`CommandQueue::complete`] or [`CommandQueue::release`].
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Dispatch {
    /// The entry.
    pub id: EntryId,
    /// The card.
    pub eid: Eid,
    /// Who on the card executes the script.
    pub target: Target,
    /// The script bytes.
    pub script: Bytes,
    /// The entry's deadline.
    pub deadline: SystemTime,
    /// 1 for the first dispatch, 2 after one release, ...
    pub attempt: u32,
}

/// Answer of [`CommandQueue::next_for`].
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Next {
    /// Send this now; the entry is in flight.
    Command(Dispatch),
    /// Another entry of this EID is in flight; nothing may be sent (U-27).
    Busy(EntryId),
    /// Nothing queued for this EID.
    Empty,
}

/// How a queued command ended.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Outcome {
    /// The card answered (the script status says whether it succeeded).
    Executed(CardResponse),
    /// The deadline passed before the card answered.
    Expired,
    /// The caller withdrew it before it was sent.
    Cancelled,
    /// It was handed to a transport this many times and lost each time.
    Undeliverable {
        /// Number of dispatches made.
        attempts: u32,
    },
}

/// The result of a queued command, delivered exactly once per entry.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Completion {
    /// The entry.
    pub id: EntryId,
    /// The card.
    pub eid: Eid,
    /// The target it was queued for.
    pub target: Target,
    /// The caller's reference from [`NewCommand::correlation`].
    pub correlation: String,
    /// How many times it was dispatched.
    pub attempts: u32,
    /// How it ended.
    pub outcome: Outcome,
}

/// What [`CommandQueue::release`] did with an entry.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Released {
    /// Back at the head of its EID's queue; it will be sent again.
    Requeued,
    /// Ended (expired or undeliverable); its [`Completion`] is in the outbox.
    Completed,
}

/// Limits of the queue.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct QueueConfig {
    /// Most entries waiting (not in flight) per EID (U-27: bounded).
    pub max_pending_per_eid: usize,
    /// Most dispatches of one entry before it ends as [`Outcome::Undeliverable`].
    pub max_attempts: u32,
    /// An entry in flight for longer than this is released as lost.
    pub in_flight_timeout: Duration,
}

impl Default for QueueConfig {
    /// 64 entries per EID, 3 attempts, 300 s in flight.
    fn default() -> QueueConfig {
        QueueConfig {
            max_pending_per_eid: 64,
            max_attempts: 3,
            in_flight_timeout: Duration::from_secs(300),
        }
    }
}

/// Why the queue refused a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueueError {
    /// The EID already has the maximum number of waiting entries.
    #[error("ES5 queue for EID {eid} is full ({limit} entries)")]
    Full {
        /// The card.
        eid: Eid,
        /// The configured limit.
        limit: usize,
    },
    /// The deadline is not in the future.
    #[error("command deadline has already passed")]
    DeadlinePassed,
    /// The script is empty.
    #[error("command script is empty")]
    EmptyScript,
    /// No such entry (never queued, or already completed).
    #[error("no ES5 queue entry {0}")]
    UnknownEntry(EntryId),
    /// The entry exists but is not in flight.
    #[error("ES5 queue entry {0} is not in flight")]
    NotInFlight(EntryId),
    /// The entry is in flight and cannot be withdrawn.
    #[error("ES5 queue entry {0} is in flight")]
    InFlight(EntryId),
}

#[derive(Clone, Debug)]
struct Entry {
    id: EntryId,
    eid: Eid,
    target: Target,
    script: Bytes,
    deadline: SystemTime,
    correlation: String,
    attempts: u32,
}

impl Entry {
    fn finish(self, outcome: Outcome) -> Completion {
        Completion {
            id: self.id,
            eid: self.eid,
            target: self.target,
            correlation: self.correlation,
            attempts: self.attempts,
            outcome,
        }
    }
}

#[derive(Debug)]
struct InFlight {
    entry: Entry,
    /// When the in-flight timeout fires.
    timer: SystemTime,
}

#[derive(Debug, Default)]
struct EidQueue {
    pending: VecDeque<Entry>,
    in_flight: Option<InFlight>,
}

impl EidQueue {
    fn is_idle(&self) -> bool {
        self.pending.is_empty() && self.in_flight.is_none()
    }
}

/// The sans-IO queue. See the [module documentation](self) for the rules.
#[derive(Debug)]
pub struct CommandQueue {
    config: QueueConfig,
    next_id: u64,
    per_eid: HashMap<Eid, EidQueue>,
    /// Which EID each live entry belongs to.
    index: HashMap<EntryId, Eid>,
    /// One timer per live entry: its deadline while waiting, its in-flight timeout while in flight.
    timers: BTreeSet<(SystemTime, EntryId)>,
    outbox: VecDeque<Completion>,
}

impl CommandQueue {
    /// An empty queue.
    pub fn new(config: QueueConfig) -> CommandQueue {
        CommandQueue {
            config,
            next_id: 1,
            per_eid: HashMap::new(),
            index: HashMap::new(),
            timers: BTreeSet::new(),
            outbox: VecDeque::new(),
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &QueueConfig {
        &self.config
    }

    /// Queues a command behind the others of its EID.
    pub fn enqueue(&mut self, command: NewCommand, now: SystemTime) -> Result<EntryId, QueueError> {
        self.expire(now);
        if command.deadline <= now {
            return Err(QueueError::DeadlinePassed);
        }
        if command.script.is_empty() {
            return Err(QueueError::EmptyScript);
        }
        let limit = self.config.max_pending_per_eid;
        let queue = self.per_eid.entry(command.eid).or_default();
        if queue.pending.len() >= limit {
            let eid = command.eid;
            if queue.is_idle() {
                self.per_eid.remove(&eid);
            }
            return Err(QueueError::Full { eid, limit });
        }
        let id = EntryId(self.next_id);
        self.next_id = self.next_id.saturating_add(1);
        queue.pending.push_back(Entry {
            id,
            eid: command.eid,
            target: command.target,
            script: command.script,
            deadline: command.deadline,
            correlation: command.correlation,
            attempts: 0,
        });
        self.index.insert(id, command.eid);
        self.timers.insert((command.deadline, id));
        Ok(id)
    }

    /// The next command for `eid`, marked in flight; expires what is due first.
    pub fn next_for(&mut self, eid: &Eid, now: SystemTime) -> Next {
        self.expire(now);
        let in_flight_timeout = self.config.in_flight_timeout;
        let Some(queue) = self.per_eid.get_mut(eid) else {
            return Next::Empty;
        };
        if let Some(flight) = &queue.in_flight {
            return Next::Busy(flight.entry.id);
        }
        let Some(mut entry) = queue.pending.pop_front() else {
            self.per_eid.remove(eid);
            return Next::Empty;
        };
        self.timers.remove(&(entry.deadline, entry.id));
        entry.attempts = entry.attempts.saturating_add(1);
        let timer = now.checked_add(in_flight_timeout).unwrap_or(entry.deadline);
        self.timers.insert((timer, entry.id));
        let dispatch = Dispatch {
            id: entry.id,
            eid: entry.eid,
            target: entry.target,
            script: entry.script.clone(),
            deadline: entry.deadline,
            attempt: entry.attempts,
        };
        queue.in_flight = Some(InFlight { entry, timer });
        Next::Command(dispatch)
    }

    /// Records the card's response to an entry in flight; its [`Completion`] goes to the outbox.
    pub fn complete(&mut self, id: EntryId, response: CardResponse) -> Result<(), QueueError> {
        let flight = self.take_in_flight(id)?;
        self.outbox
            .push_back(flight.entry.finish(Outcome::Executed(response)));
        Ok(())
    }

    /// Gives back an entry in flight that the transport lost: it is requeued at the head of its EID's
    /// queue, or ended when its deadline has passed or it has used all attempts.
    pub fn release(&mut self, id: EntryId, now: SystemTime) -> Result<Released, QueueError> {
        let flight = self.take_in_flight(id)?;
        Ok(self.requeue_or_finish(flight.entry, now))
    }

    /// Withdraws a waiting entry ([`Outcome::Cancelled`]). An entry in flight cannot be withdrawn.
    pub fn cancel(&mut self, id: EntryId) -> Result<(), QueueError> {
        let eid = *self.index.get(&id).ok_or(QueueError::UnknownEntry(id))?;
        let queue = self
            .per_eid
            .get_mut(&eid)
            .ok_or(QueueError::UnknownEntry(id))?;
        if queue.in_flight.as_ref().is_some_and(|f| f.entry.id == id) {
            return Err(QueueError::InFlight(id));
        }
        let position = queue
            .pending
            .iter()
            .position(|e| e.id == id)
            .ok_or(QueueError::UnknownEntry(id))?;
        let entry = queue
            .pending
            .remove(position)
            .ok_or(QueueError::UnknownEntry(id))?;
        if queue.is_idle() {
            self.per_eid.remove(&eid);
        }
        self.index.remove(&id);
        self.timers.remove(&(entry.deadline, id));
        self.outbox.push_back(entry.finish(Outcome::Cancelled));
        Ok(())
    }

    /// Runs the timers due at `now`: waiting entries past their deadline expire, entries in flight
    /// past the in-flight timeout are released. Returns the number of timers run.
    pub fn expire(&mut self, now: SystemTime) -> usize {
        let mut fired = 0;
        while let Some(&(at, id)) = self.timers.first() {
            if at > now {
                break;
            }
            self.timers.remove(&(at, id));
            fired += 1;
            let Some(eid) = self.index.get(&id).copied() else {
                continue;
            };
            let Some(queue) = self.per_eid.get_mut(&eid) else {
                self.index.remove(&id);
                continue;
            };
            if queue.in_flight.as_ref().is_some_and(|f| f.entry.id == id) {
                if let Some(flight) = queue.in_flight.take() {
                    // The transport never reported: treat the entry as lost.
                    self.requeue_or_finish(flight.entry, now);
                }
            } else if let Some(entry) = queue
                .pending
                .iter()
                .position(|e| e.id == id)
                .and_then(|position| queue.pending.remove(position))
            {
                if queue.is_idle() {
                    self.per_eid.remove(&eid);
                }
                self.index.remove(&id);
                self.outbox.push_back(entry.finish(Outcome::Expired));
            }
        }
        fired
    }

    /// Takes the next completion from the outbox.
    pub fn poll_completion(&mut self) -> Option<Completion> {
        self.outbox.pop_front()
    }

    /// When [`CommandQueue::expire`] next has something to do.
    pub fn next_timer(&self) -> Option<SystemTime> {
        self.timers.first().map(|&(at, _)| at)
    }

    /// Number of entries waiting (not in flight) for `eid`.
    pub fn pending_len(&self, eid: &Eid) -> usize {
        self.per_eid.get(eid).map_or(0, |q| q.pending.len())
    }

    /// The entry in flight for `eid`, if any.
    pub fn in_flight(&self, eid: &Eid) -> Option<EntryId> {
        self.per_eid
            .get(eid)
            .and_then(|q| q.in_flight.as_ref())
            .map(|f| f.entry.id)
    }

    /// Whether [`CommandQueue::next_for`] would hand out a command for `eid` now (ignoring expiry).
    pub fn has_work(&self, eid: &Eid) -> bool {
        self.per_eid
            .get(eid)
            .is_some_and(|q| q.in_flight.is_none() && !q.pending.is_empty())
    }

    /// Number of live entries (waiting or in flight) over all EIDs.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether no entry is live.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    fn take_in_flight(&mut self, id: EntryId) -> Result<InFlight, QueueError> {
        let eid = *self.index.get(&id).ok_or(QueueError::UnknownEntry(id))?;
        let queue = self
            .per_eid
            .get_mut(&eid)
            .ok_or(QueueError::UnknownEntry(id))?;
        if queue.in_flight.as_ref().is_none_or(|f| f.entry.id != id) {
            return Err(QueueError::NotInFlight(id));
        }
        let flight = queue.in_flight.take().ok_or(QueueError::NotInFlight(id))?;
        if queue.is_idle() {
            self.per_eid.remove(&eid);
        }
        self.index.remove(&id);
        self.timers.remove(&(flight.timer, id));
        Ok(flight)
    }

    /// Puts a lost entry (already out of `index`, `timers` and `in_flight`) back at the head of its
    /// queue, or finishes it.
    fn requeue_or_finish(&mut self, entry: Entry, now: SystemTime) -> Released {
        let outcome = if entry.deadline <= now {
            Some(Outcome::Expired)
        } else if entry.attempts >= self.config.max_attempts {
            Some(Outcome::Undeliverable {
                attempts: entry.attempts,
            })
        } else {
            None
        };
        if let Some(outcome) = outcome {
            self.index.remove(&entry.id);
            if self.per_eid.get(&entry.eid).is_some_and(EidQueue::is_idle) {
                self.per_eid.remove(&entry.eid);
            }
            self.outbox.push_back(entry.finish(outcome));
            return Released::Completed;
        }
        self.index.insert(entry.id, entry.eid);
        self.timers.insert((entry.deadline, entry.id));
        self.per_eid
            .entry(entry.eid)
            .or_default()
            .pending
            .push_front(entry);
        Released::Requeued
    }
}

/// A source of wall-clock time, injected so tests control expiry.
pub trait Clock: Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> SystemTime;
}

/// The system clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock that moves only when told to (tests, simulations).
#[derive(Debug)]
pub struct ManualClock(Mutex<SystemTime>);

impl ManualClock {
    /// A clock standing at `start`.
    pub fn new(start: SystemTime) -> ManualClock {
        ManualClock(Mutex::new(start))
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let mut t = lock(&self.0);
        *t = t.checked_add(by).unwrap_or(*t);
    }

    /// Sets the clock.
    pub fn set(&self, to: SystemTime) {
        *lock(&self.0) = to;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        *lock(&self.0)
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // No code path panics while holding these locks; recover the data if one ever did.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The handle a caller keeps for one queued command.
#[derive(Debug)]
pub struct Ticket {
    /// The entry.
    pub id: EntryId,
    completion: oneshot::Receiver<Completion>,
}

impl Ticket {
    /// Waits for the entry's completion; `None` if the queue was dropped first.
    pub async fn wait(self) -> Option<Completion> {
        self.completion.await.ok()
    }

    /// The completion if it has arrived.
    pub fn try_take(&mut self) -> Option<Completion> {
        self.completion.try_recv().ok()
    }
}

#[derive(Debug)]
struct State {
    core: CommandQueue,
    waiters: HashMap<EntryId, oneshot::Sender<Completion>>,
    sink: Option<mpsc::UnboundedSender<Completion>>,
}

impl State {
    /// Delivers every completion in the outbox to its ticket and to the subscriber.
    fn deliver(&mut self) {
        while let Some(completion) = self.core.poll_completion() {
            tracing::debug!(
                entry = completion.id.get(),
                eid = %completion.eid,
                correlation = %completion.correlation,
                outcome = ?outcome_name(&completion.outcome),
                "ES5 queue entry completed"
            );
            if let Some(sink) = &self.sink
                && sink.send(completion.clone()).is_err()
            {
                self.sink = None;
            }
            if let Some(waiter) = self.waiters.remove(&completion.id) {
                // The caller may have dropped its ticket: nothing to do then.
                let _ = waiter.send(completion);
            }
        }
    }
}

fn outcome_name(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Executed(r) if r.status.is_ok() => "executed",
        Outcome::Executed(_) => "executed-with-error-status",
        Outcome::Expired => "expired",
        Outcome::Cancelled => "cancelled",
        Outcome::Undeliverable { .. } => "undeliverable",
    }
}

struct Shared {
    state: Mutex<State>,
    clock: Arc<dyn Clock>,
    /// Woken whenever work may have become available (enqueue, complete, release) or timers changed.
    changed: Notify,
}

/// The shared, cloneable ES5 queue handle used by the SM-SR and its transports.
#[derive(Clone)]
pub struct Es5Queue {
    shared: Arc<Shared>,
}

impl fmt::Debug for Es5Queue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Es5Queue").finish_non_exhaustive()
    }
}

impl Es5Queue {
    /// A queue on the system clock.
    pub fn new(config: QueueConfig) -> Es5Queue {
        Es5Queue::with_clock(config, Arc::new(SystemClock))
    }

    /// A queue on the given clock.
    pub fn with_clock(config: QueueConfig, clock: Arc<dyn Clock>) -> Es5Queue {
        Es5Queue {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    core: CommandQueue::new(config),
                    waiters: HashMap::new(),
                    sink: None,
                }),
                clock,
                changed: Notify::new(),
            }),
        }
    }

    /// The clock in use.
    pub fn now(&self) -> SystemTime {
        self.shared.clock.now()
    }

    /// Every completion from now on is also sent to the returned receiver (in addition to the
    /// entry's [`Ticket`]). A new subscription replaces the previous one.
    pub fn subscribe(&self) -> mpsc::UnboundedReceiver<Completion> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.with_state(|s| s.sink = Some(tx));
        rx
    }

    /// Queues a command; the [`Ticket`] yields its [`Completion`].
    pub fn enqueue(&self, command: NewCommand) -> Result<Ticket, QueueError> {
        let now = self.now();
        let (tx, rx) = oneshot::channel();
        let id = self.with_state(|s| {
            let id = s.core.enqueue(command, now)?;
            s.waiters.insert(id, tx);
            Ok::<_, QueueError>(id)
        })?;
        self.shared.changed.notify_waiters();
        Ok(Ticket { id, completion: rx })
    }

    /// See [`CommandQueue::next_for`].
    pub fn next_for(&self, eid: &Eid) -> Next {
        let now = self.now();
        self.with_state(|s| s.core.next_for(eid, now))
    }

    /// Like [`Es5Queue::next_for`], but waits up to `wait` for a command to become available.
    /// Returns the last answer ([`Next::Busy`] or [`Next::Empty`]) when none came.
    pub async fn next_for_within(&self, eid: &Eid, wait: Duration) -> Next {
        let until = tokio::time::Instant::now() + wait;
        loop {
            let notified = self.shared.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let next = self.next_for(eid);
            if matches!(next, Next::Command(_)) || tokio::time::Instant::now() >= until {
                return next;
            }
            tokio::select! {
                _ = &mut notified => {}
                _ = tokio::time::sleep_until(until) => return self.next_for(eid),
            }
        }
    }

    /// See [`CommandQueue::complete`].
    pub fn complete(&self, id: EntryId, response: CardResponse) -> Result<(), QueueError> {
        self.with_state(|s| s.core.complete(id, response))?;
        self.shared.changed.notify_waiters();
        Ok(())
    }

    /// See [`CommandQueue::release`].
    pub fn release(&self, id: EntryId) -> Result<Released, QueueError> {
        let now = self.now();
        let released = self.with_state(|s| s.core.release(id, now))?;
        self.shared.changed.notify_waiters();
        Ok(released)
    }

    /// See [`CommandQueue::cancel`].
    pub fn cancel(&self, id: EntryId) -> Result<(), QueueError> {
        self.with_state(|s| s.core.cancel(id))
    }

    /// Runs the timers due now (see [`CommandQueue::expire`]).
    pub fn expire_due(&self) -> usize {
        let now = self.now();
        let fired = self.with_state(|s| s.core.expire(now));
        if fired > 0 {
            self.shared.changed.notify_waiters();
        }
        fired
    }

    /// See [`CommandQueue::pending_len`].
    pub fn pending_len(&self, eid: &Eid) -> usize {
        self.with_state(|s| s.core.pending_len(eid))
    }

    /// See [`CommandQueue::in_flight`].
    pub fn in_flight(&self, eid: &Eid) -> Option<EntryId> {
        self.with_state(|s| s.core.in_flight(eid))
    }

    /// See [`CommandQueue::len`].
    pub fn len(&self) -> usize {
        self.with_state(|s| s.core.len())
    }

    /// See [`CommandQueue::is_empty`].
    pub fn is_empty(&self) -> bool {
        self.with_state(|s| s.core.is_empty())
    }

    /// Runs the timers for ever: sleeps until the next one is due (at most `max_tick`, so that a
    /// clock set forward is noticed) or until the queue changes. Spawn it once per queue.
    pub async fn run_expiry(self, max_tick: Duration) {
        loop {
            let notified = self.shared.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            self.expire_due();
            let next = self.with_state(|s| s.core.next_timer());
            let sleep = next
                .map(|at| at.duration_since(self.now()).unwrap_or(Duration::ZERO))
                .map_or(max_tick, |d| d.min(max_tick));
            tokio::select! {
                _ = &mut notified => {}
                _ = tokio::time::sleep(sleep) => {}
            }
        }
    }

    fn with_state<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let mut state = lock(&self.shared.state);
        let result = f(&mut state);
        state.deliver();
        result
    }
}
