//! Every live connection by its token, and the groups (per hub) they joined.

use super::connection::Connection;
use super::{Out, TransportEnd};
use crate::app::App;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};

/// How long a long-polling connection closed by the server stays reachable, so that its
/// client's next poll drains the Close message and then gets 204 instead of 404.
const LINGER_MS: u64 = 10_000;

/// Connections and groups.
#[derive(Default)]
pub struct Registry {
    by_token: RwLock<HashMap<String, Arc<Connection>>>,
    lingering: Mutex<HashMap<String, (Arc<Connection>, u64)>>,
    /// "hubPath\0group" -> tokens.
    groups: Mutex<HashMap<String, HashSet<String>>>,
}

fn group_key(hub_path: &str, group: &str) -> String {
    format!("{hub_path}\0{group}")
}

impl Registry {
    pub fn insert(&self, conn: Arc<Connection>) {
        self.by_token
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(conn.token.clone(), conn);
    }

    pub fn get(&self, token: &str) -> Option<Arc<Connection>> {
        self.by_token
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(token)
            .cloned()
    }

    /// A live connection, or a long-polling one that was just closed by the server.
    pub fn get_for_poll(&self, token: &str, now_ms: u64) -> Option<Arc<Connection>> {
        if let Some(c) = self.get(token) {
            return Some(c);
        }
        let mut l = self.lingering.lock().unwrap_or_else(|e| e.into_inner());
        l.retain(|_, (_, until)| *until > now_ms);
        l.get(token).map(|(c, _)| c.clone())
    }

    /// Stops a lingering long-polling connection from answering (its 204 was delivered).
    pub fn unlinger(&self, token: &str) {
        self.lingering
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(token);
    }

    pub fn all(&self) -> Vec<Arc<Connection>> {
        self.by_token
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect()
    }

    /// Connections matching the optional key and hub filters of the `/_dev` API.
    pub fn matching(&self, key: Option<&str>, hub: Option<&str>) -> Vec<Arc<Connection>> {
        self.all()
            .into_iter()
            .filter(|c| key.map_or(true, |k| c.key.as_deref() == Some(k)))
            .filter(|c| hub.map_or(true, |h| c.hub_path == h || c.hub_path.ends_with(h)))
            .collect()
    }

    pub fn count(&self) -> usize {
        self.by_token
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }

    /// Adds a connection to a group of its hub.
    pub fn join(&self, conn: &Connection, group: &str) {
        self.groups
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(group_key(&conn.hub_path, group))
            .or_default()
            .insert(conn.token.clone());
        conn.state().groups.insert(group.to_string());
    }

    /// Removes a connection from a group; true if it was a member.
    pub fn leave(&self, conn: &Connection, group: &str) -> bool {
        let mut groups = self.groups.lock().unwrap_or_else(|e| e.into_inner());
        let gk = group_key(&conn.hub_path, group);
        let removed = groups.get_mut(&gk).is_some_and(|s| s.remove(&conn.token));
        if groups.get(&gk).is_some_and(|s| s.is_empty()) {
            groups.remove(&gk);
        }
        drop(groups);
        conn.state().groups.remove(group);
        removed
    }

    /// Members of a group of a hub.
    pub fn members(&self, hub_path: &str, group: &str) -> Vec<Arc<Connection>> {
        let tokens: Vec<String> = self
            .groups
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&group_key(hub_path, group))
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default();
        let map = self.by_token.read().unwrap_or_else(|e| e.into_inner());
        tokens.iter().filter_map(|t| map.get(t).cloned()).collect()
    }

    /// Forgets a connection: releases its waiters, leaves its groups, updates counters, logs.
    /// A long-polling connection lingers briefly so its client's next poll gets 204.
    pub fn remove(&self, app: &App, conn: &Arc<Connection>, why: &str) {
        self.remove_inner(app, conn, why, true)
    }

    /// Like `remove`, but the next poll of a long-polling client gets 404 (`/_dev/drop`).
    pub fn forget(&self, app: &App, conn: &Arc<Connection>, why: &str) {
        self.remove_inner(app, conn, why, false)
    }

    fn remove_inner(&self, app: &App, conn: &Arc<Connection>, why: &str, linger: bool) {
        let Some(groups) = conn.mark_closed() else {
            return;
        };
        if linger && conn.transport() == Some(crate::counters::TransportKind::LongPolling) {
            self.lingering
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(conn.token.clone(), (conn.clone(), app.now_ms() + LINGER_MS));
        }
        self.by_token
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&conn.token);
        {
            let mut g = self.groups.lock().unwrap_or_else(|e| e.into_inner());
            for group in groups {
                let gk = group_key(&conn.hub_path, &group);
                if let Some(set) = g.get_mut(&gk) {
                    set.remove(&conn.token);
                    if set.is_empty() {
                        g.remove(&gk);
                    }
                }
            }
        }
        let st = conn.state();
        if st.ever_attached {
            let idx = st.transport.map(|t| t as usize);
            drop(st);
            app.counters.bump(conn.key.as_deref(), |c| {
                c.open -= 1;
                if let Some(i) = idx {
                    c.open_by_transport[i] -= 1;
                }
            });
            app.log(format_args!("conn {} closed: {why}", conn.id));
        }
    }

    /// Ends a transport generation and decides the connection's fate: stateful WebSocket
    /// connections survive a broken or dropped socket for the grace period.
    pub fn transport_ended(
        &self,
        app: &Arc<App>,
        conn: &Arc<Connection>,
        generation: u64,
        end: TransportEnd,
    ) {
        if !conn.detach(generation) {
            return; // a newer transport took over
        }
        let survive = conn.is_stateful()
            && matches!(end, TransportEnd::Broken | TransportEnd::Dropped)
            && !app.is_shutting_down();
        if !survive {
            let why = match end {
                TransportEnd::ServerClosed => "closed by server",
                TransportEnd::ClientClosed => "closed by client",
                TransportEnd::Broken => "transport broke",
                TransportEnd::Dropped => "dropped (fault injection)",
            };
            self.remove(app, conn, why);
            return;
        }
        app.log(format_args!(
            "conn {} transport lost; waiting for stateful reconnect",
            conn.id
        ));
        let app = app.clone();
        let conn = conn.clone();
        let grace = app.config.stateful_grace_ms;
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(grace)).await;
            let expired = {
                let st = conn.state();
                !st.attached && st.generation == generation && !st.closed
            };
            if expired {
                app.conns
                    .remove(&app, &conn, "stateful reconnect grace period expired");
            }
        });
    }

    /// Drops every transport and forgets every connection (restart / shutdown).
    pub fn clear(&self, app: &App, key: Option<&str>) {
        for conn in self.matching(key, None) {
            conn.push(Out::Abort);
            self.forget(app, &conn, "server state reset");
        }
        if key.is_none() {
            self.lingering
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clear();
        }
    }
}
