//! The Conduit layer, without I/O: both dialects' events mapped onto tasks, the task registry that delivers
//! each outcome exactly once, the HTTP API's answers and errors, and secret redaction.

pub mod api;
pub mod dialect;
pub mod id_hash;
pub mod json;
pub mod redact;
pub mod registry;
pub mod task;
