//! What the engine's fuzz targets share: a small app on a real session
//! ([`rig`]) and a client copy of its stream that checks every message
//! ([`mirror`]). `patch_apply` needs neither: it fuzzes the wire crate alone.

pub mod mirror;
pub mod rig;
