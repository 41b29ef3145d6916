//! What the engine's fuzz targets share: a small app on a real session
//! ([`rig`]) and a client following its stream that checks every message
//! ([`follower`]). `patch_apply` needs neither: it fuzzes the wire crate alone.

pub mod follower;
pub mod rig;
