//! The simulated Conduit gateway: virtual and ephemeral keys, generation tasks with their
//! timelines, the event shapes of both dialects, the HTTP API and the generated media.

pub mod api;
pub mod auth;
pub mod events;
pub mod media;
pub mod tasks;
