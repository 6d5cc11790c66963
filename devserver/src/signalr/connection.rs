//! One SignalR connection: identity, auth, chosen protocol, its current transport's outbound
//! queue, groups, pending client results, streams, and the stateful-reconnect replay buffer.

use super::{Frame, Out};
use crate::config::Dialect;
use crate::counters::TransportKind;
use crate::hubs::HubKind;
use crate::protocol::{HubMessage, Outcome, Protocol};
use bytes::Bytes;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use tokio::sync::{mpsc, oneshot, Notify};

/// Why `attach` refused a transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttachError {
    /// The connection is gone (404).
    Gone,
    /// Another transport is active for this id (409).
    Conflict,
    /// The connection uses another transport (400).
    WrongTransport,
}

/// Result of a successful attach.
#[derive(Debug, Clone, Copy)]
pub struct Attached {
    /// Generation of this attachment: a transport only ends its own generation.
    pub generation: u64,
    /// True when a stateful connection got its transport back.
    pub resumed: bool,
    /// True on the connection's first transport.
    pub first: bool,
}

/// Messages a client-to-server stream delivers to the hub method reading it.
#[derive(Debug)]
pub enum StreamEvent {
    Item(rmpv::Value),
    End(Option<String>),
}

/// Mutable state behind one lock.
#[derive(Default)]
pub struct ConnState {
    pub transport: Option<TransportKind>,
    pub attached: bool,
    pub ever_attached: bool,
    pub generation: u64,
    tx: Option<mpsc::UnboundedSender<Out>>,
    kill: Option<Arc<AtomicBool>>,
    pub closed: bool,
    pub stateful: bool,
    /// Sequenced messages sent so far (the last id used).
    pub out_seq: u64,
    /// Unacknowledged sequenced messages (id, framed bytes).
    pub replay: VecDeque<(u64, Bytes)>,
    pub pending_results: HashMap<String, oneshot::Sender<Outcome>>,
    pub next_server_invocation: u64,
    pub server_streams: HashMap<String, Arc<Notify>>,
    pub client_streams: HashMap<String, mpsc::UnboundedSender<StreamEvent>>,
    pub groups: HashSet<String>,
}

/// One connection.
pub struct Connection {
    pub id: String,
    pub token: String,
    pub hub: HubKind,
    pub hub_path: String,
    pub dialect: Dialect,
    /// The virtual key that owns this connection (on the test hub: the raw token, if any).
    pub key: Option<String>,
    /// The token presented when the connection was created.
    pub auth_token: Option<String>,
    /// Negotiate answered `useStatefulReconnect: true`.
    pub stateful_offered: bool,
    pub negotiate_version: u8,
    protocol: OnceLock<Protocol>,
    pub silenced: AtomicBool,
    /// Milliseconds (server clock) of the last message received.
    pub last_recv_ms: AtomicU64,
    /// Highest sequence id received and processed (stateful reconnect), for the server's Acks.
    pub recv_latest: AtomicU64,
    pub created_ms: u64,
    state: Mutex<ConnState>,
    /// Incoming side: handshake and partial-record buffer, stateful receive ids. One at a time.
    pub incoming: tokio::sync::Mutex<super::receive::Incoming>,
    /// Long-polling receive side.
    pub poll: tokio::sync::Mutex<super::longpoll::PollState>,
    pub polling: AtomicBool,
    pub last_poll_end_ms: AtomicU64,
}

impl Connection {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        hub: HubKind,
        hub_path: &str,
        dialect: Dialect,
        key: Option<String>,
        auth_token: Option<String>,
        stateful_offered: bool,
        negotiate_version: u8,
        now_ms: u64,
    ) -> Arc<Connection> {
        let id = crate::util::random_token(22);
        let token = if negotiate_version == 0 {
            id.clone()
        } else {
            crate::util::random_token(22)
        };
        Arc::new(Connection {
            id,
            token,
            hub,
            hub_path: hub_path.to_string(),
            dialect,
            key,
            auth_token,
            stateful_offered,
            negotiate_version,
            protocol: OnceLock::new(),
            silenced: AtomicBool::new(false),
            last_recv_ms: AtomicU64::new(now_ms),
            recv_latest: AtomicU64::new(0),
            created_ms: now_ms,
            state: Mutex::new(ConnState::default()),
            incoming: tokio::sync::Mutex::new(Default::default()),
            poll: tokio::sync::Mutex::new(Default::default()),
            polling: AtomicBool::new(false),
            last_poll_end_ms: AtomicU64::new(now_ms),
        })
    }

    /// Locks the mutable state (a poisoned lock is still usable: state stays consistent per call).
    pub fn state(&self) -> MutexGuard<'_, ConnState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The protocol chosen in the handshake.
    pub fn protocol(&self) -> Option<Protocol> {
        self.protocol.get().copied()
    }

    pub fn set_protocol(&self, p: Protocol) {
        let _ = self.protocol.set(p);
    }

    pub fn is_binary(&self) -> bool {
        self.protocol().is_some_and(Protocol::is_binary)
    }

    pub fn transport(&self) -> Option<TransportKind> {
        self.state().transport
    }

    pub fn is_closed(&self) -> bool {
        self.state().closed
    }

    pub fn is_stateful(&self) -> bool {
        self.state().stateful
    }

    /// Binds a transport's outbound queue. A stateful connection whose WebSocket dropped takes
    /// a new one and replays: Sequence, then every unacknowledged message.
    pub fn attach(
        &self,
        kind: TransportKind,
        tx: mpsc::UnboundedSender<Out>,
        kill: Arc<AtomicBool>,
    ) -> Result<Attached, AttachError> {
        let mut st = self.state();
        if st.closed {
            return Err(AttachError::Gone);
        }
        if let Some(t) = st.transport {
            if t != kind {
                return Err(AttachError::WrongTransport);
            }
        }
        let resuming = st.ever_attached;
        if resuming {
            if !st.stateful || kind != TransportKind::WebSockets {
                return Err(if st.attached {
                    AttachError::Conflict
                } else {
                    AttachError::Gone
                });
            }
            // Stateful: a new socket replaces the old one, dead or not.
            if let Some(old) = st.tx.take() {
                let _ = old.send(Out::Abort);
            }
            if let Some(k) = st.kill.take() {
                k.store(true, Ordering::Relaxed);
            }
        }
        st.transport = Some(kind);
        st.attached = true;
        st.ever_attached = true;
        st.generation += 1;
        if resuming {
            if let Some(p) = self.protocol() {
                let first = st
                    .replay
                    .front()
                    .map(|(id, _)| *id)
                    .unwrap_or(st.out_seq + 1);
                let binary = p.is_binary();
                let _ = tx.send(Out::Frame(Frame {
                    data: Bytes::from(p.encode(&HubMessage::Sequence { sequence_id: first })),
                    binary,
                }));
                for (_, data) in st.replay.iter() {
                    let _ = tx.send(Out::Frame(Frame {
                        data: data.clone(),
                        binary,
                    }));
                }
            }
        }
        st.tx = Some(tx);
        st.kill = Some(kill);
        Ok(Attached {
            generation: st.generation,
            resumed: resuming,
            first: !resuming,
        })
    }

    /// Forgets the transport of `generation` (stateful connections wait for their client).
    /// Returns false when another transport already took over.
    pub fn detach(&self, generation: u64) -> bool {
        let mut st = self.state();
        if st.generation != generation {
            return false;
        }
        st.attached = false;
        st.tx = None;
        st.kill = None;
        true
    }

    /// Sends a hub message in this connection's protocol. Sequenced messages of a stateful
    /// connection are kept for replay until acknowledged. Returns false when closed.
    pub fn send(&self, msg: &HubMessage) -> bool {
        let Some(p) = self.protocol() else {
            return false;
        };
        let data = Bytes::from(p.encode(msg));
        let binary = p.is_binary();
        let mut st = self.state();
        if st.closed {
            return false;
        }
        if st.stateful && msg.is_sequenced() {
            st.out_seq += 1;
            let id = st.out_seq;
            st.replay.push_back((id, data.clone()));
        }
        let silent =
            self.silenced.load(Ordering::Relaxed) && !matches!(msg, HubMessage::Close { .. });
        if !silent {
            if let Some(tx) = &st.tx {
                let _ = tx.send(Out::Frame(Frame { data, binary }));
            }
        }
        true
    }

    /// Queues raw transport output, bypassing sequencing and silence (handshake answers, floods,
    /// raw frames, End/Abort).
    pub fn push(&self, out: Out) -> bool {
        let st = self.state();
        if let Some(kill) = &st.kill {
            if matches!(out, Out::Abort) {
                kill.store(true, Ordering::Relaxed);
            }
        }
        match &st.tx {
            Some(tx) => tx.send(out).is_ok(),
            None => false,
        }
    }

    /// Drops acknowledged messages from the replay buffer.
    pub fn ack(&self, sequence_id: u64) {
        let mut st = self.state();
        while st.replay.front().is_some_and(|(id, _)| *id <= sequence_id) {
            st.replay.pop_front();
        }
    }

    /// Sends `Close` and ends the transport.
    pub fn close(&self, error: Option<String>, allow_reconnect: bool) {
        self.send(&HubMessage::Close {
            error,
            allow_reconnect,
        });
        self.push(Out::End);
    }

    /// Invokes a client method that expects a result; the receiver yields the client's Completion.
    pub fn invoke_client(
        &self,
        target: &str,
        arguments: Vec<rmpv::Value>,
    ) -> oneshot::Receiver<Outcome> {
        let (tx, rx) = oneshot::channel();
        let id = {
            let mut st = self.state();
            st.next_server_invocation += 1;
            let id = format!("s{}", st.next_server_invocation);
            st.pending_results.insert(id.clone(), tx);
            id
        };
        self.send(&HubMessage::Invocation {
            headers: Vec::new(),
            invocation_id: Some(id),
            target: target.to_string(),
            arguments,
            stream_ids: Vec::new(),
        });
        rx
    }

    /// Marks the connection closed and releases everything waiting on it. Returns the groups
    /// it was in (for the registry to clean up), or None if it was already closed.
    pub fn mark_closed(&self) -> Option<HashSet<String>> {
        let mut st = self.state();
        if st.closed {
            return None;
        }
        st.closed = true;
        st.attached = false;
        // Dropping the sender lets the transport drain what is queued (Close, End) and stop.
        st.tx = None;
        st.kill = None;
        for (_, tx) in st.pending_results.drain() {
            let _ = tx.send(Outcome::Error(
                "Connection closed before the client answered.".into(),
            ));
        }
        for (_, n) in st.server_streams.drain() {
            n.notify_one();
        }
        for (_, s) in st.client_streams.drain() {
            let _ = s.send(StreamEvent::End(Some("Connection closed.".into())));
        }
        st.replay.clear();
        Some(std::mem::take(&mut st.groups))
    }
}
