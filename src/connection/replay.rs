//! Stateful reconnect bookkeeping: sequence ids of what we send and receive, the replay buffer of sent
//! messages not yet acknowledged, and duplicate detection after a resume.

use std::collections::VecDeque;

/// Sent messages kept until the server acknowledges them, and the receive-side sequence state.
#[derive(Debug, Default)]
pub struct ReplayBuffer {
    sent: VecDeque<(u64, Vec<u8>)>,
    buffered_bytes: usize,
    total_sent: u64,
    next_receive_id: u64,
    latest_received_id: u64,
    waiting_for_sequence: bool,
    ack_due: bool,
}

impl ReplayBuffer {
    /// An empty buffer; sequence ids start at 1.
    pub fn new() -> Self {
        ReplayBuffer { next_receive_id: 1, ..Default::default() }
    }

    /// Records a sequenced message we send, keeping a copy for replay.
    pub fn record_sent(&mut self, framed: &[u8]) {
        self.total_sent += 1;
        self.buffered_bytes += framed.len();
        self.sent.push_back((self.total_sent, framed.to_vec()));
    }

    /// Bytes waiting for an acknowledgement.
    pub fn buffered_bytes(&self) -> usize {
        self.buffered_bytes
    }

    /// Drops everything up to and including `sequence_id`.
    pub fn acknowledge(&mut self, sequence_id: u64) {
        while let Some((id, bytes)) = self.sent.front() {
            if *id > sequence_id {
                break;
            }
            self.buffered_bytes -= bytes.len();
            self.sent.pop_front();
        }
    }

    /// Decides whether an incoming sequenced message is new (`true`) or a duplicate to ignore.
    pub fn accept_received(&mut self) -> bool {
        if self.waiting_for_sequence {
            return false;
        }
        let id = self.next_receive_id;
        self.next_receive_id += 1;
        if id <= self.latest_received_id {
            if id == self.latest_received_id {
                self.ack_due = true;
            }
            return false;
        }
        self.latest_received_id = id;
        self.ack_due = true;
        true
    }

    /// Handles the peer's Sequence message; `false` when it claims ids we never received.
    pub fn reset_sequence(&mut self, sequence_id: u64) -> bool {
        self.waiting_for_sequence = false;
        if sequence_id > self.next_receive_id {
            return false;
        }
        self.next_receive_id = sequence_id;
        true
    }

    /// Notes that the transport dropped: until the peer's Sequence arrives, incoming messages are ignored.
    pub fn disconnected(&mut self) {
        self.waiting_for_sequence = true;
    }

    /// The id to announce in our Sequence message after a resume, and the messages to resend.
    pub fn resend(&self) -> (u64, impl Iterator<Item = &[u8]>) {
        let first = self.sent.front().map_or(self.total_sent + 1, |(id, _)| *id);
        (first, self.sent.iter().map(|(_, bytes)| bytes.as_slice()))
    }

    /// Takes the pending acknowledgement, if one is due: the highest id received.
    pub fn take_ack(&mut self) -> Option<u64> {
        core::mem::take(&mut self.ack_due).then_some(self.latest_received_id)
    }

    /// Whether an acknowledgement is waiting to be sent.
    pub fn ack_pending(&self) -> bool {
        self.ack_due
    }
}
