//! The Lua scripts: every step that checks ownership and then writes is one
//! script, so Redis runs the check and the write with nothing in between.
//! That is the fix for Reflex's issue 6855, where `set_state` read the lock
//! and wrote in two commands and a stale worker could slip through the gap.
//! Each script also takes a whole batch, so a save of N sessions costs one
//! round trip, not 2N as in Reflex's issue 6848.

use std::sync::LazyLock;

use redis::Script;

/// Takes the lease if nobody holds it, with a fence higher than any before:
/// `KEYS = [owner, fence, record]`, `ARGV = [instance, lease_ms, create,
/// ttl_ms]`. The fence lives as long as a record would (see `HOLDS`).
/// Only a creator (`create = 1`) takes the lease of a session with no
/// record: another instance asking first must not take over a session that
/// its creator has not saved yet. Returns `[fence or 0, record or nil]`, so
/// joining a session is one round trip.
pub(super) static ACQUIRE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
        local record = redis.call('GET', KEYS[3])
        if redis.call('EXISTS', KEYS[1]) == 1 then return {0, record} end
        if not record and ARGV[3] ~= '1' then return {0, record} end
        local fence = redis.call('INCR', KEYS[2])
        redis.call('PEXPIRE', KEYS[2], ARGV[4])
        redis.call('SET', KEYS[1], ARGV[1] .. ':' .. fence, 'PX', ARGV[2])
        return {fence, record}
        ",
    )
});

/// The fence check that every write of an owner starts with, as a Lua
/// function: 1 if `mine` holds the lease (it is extended); 2 if the lease
/// had lapsed and no one took a later fence (a pause, or Redis restarted
/// empty), so it is taken back; 0 if it is another's. Taking a lapsed lease
/// back is safe: with no later fence, nobody else can have written.
///
/// Every key of a session expires: the owner key with its lease, the inbox
/// with the record, and the fence never before the record (each write or
/// renewal of the record sets both), so once a session is idle for the
/// record's TTL nothing of it is left, and while a record exists its fence
/// does too, which is what keeps fences rising.
const HOLDS: &str = r"
    local function holds(owner, fence, mine, my_fence, lease_ms, ttl_ms)
        local holder = redis.call('GET', owner)
        if holder == mine then
            redis.call('PEXPIRE', owner, lease_ms)
            return 1
        end
        if holder then return 0 end
        local last = redis.call('GET', fence)
        if last and last ~= my_fence then return 0 end
        redis.call('SET', fence, my_fence, 'PX', ttl_ms)
        redis.call('SET', owner, mine, 'PX', lease_ms)
        return 2
    end
";

fn with_holds(body: &str) -> Script {
    Script::new(&format!("{HOLDS}{body}"))
}

/// The fenced save of a batch: per session `KEYS += [owner, fence, record]`
/// and `ARGV += [owner value, fence, record, updates channel, payload]`,
/// after `ARGV = [lease_ms, record ttl_ms]`. A session's record is written,
/// and its updates published, only if this holder still holds the lease.
/// Returns, per session, what `holds` said.
pub(super) static SAVE: LazyLock<Script> = LazyLock::new(|| {
    with_holds(
        r"
        local result = {}
        for i = 1, #KEYS / 3 do
            local a = 2 + (i - 1) * 5
            result[i] = holds(KEYS[3 * i - 2], KEYS[3 * i - 1], ARGV[a + 1], ARGV[a + 2], ARGV[1], ARGV[2])
            if result[i] ~= 0 then
                redis.call('SET', KEYS[3 * i], ARGV[a + 3], 'PX', ARGV[2])
                redis.call('PEXPIRE', KEYS[3 * i - 1], ARGV[2])
                redis.call('PUBLISH', ARGV[a + 4], ARGV[a + 5])
            end
        end
        return result
        ",
    )
});

/// Renews a batch of leases: per session `KEYS += [owner, fence, record]`
/// and `ARGV += [owner value, fence]`, after `ARGV = [lease_ms, ttl_ms]`.
/// Returns, per session, what `holds` said; on 2 the record may be gone,
/// and the owner saves it again.
pub(super) static RENEW: LazyLock<Script> = LazyLock::new(|| {
    with_holds(
        r"
        local result = {}
        for i = 1, #KEYS / 3 do
            local a = 2 + (i - 1) * 2
            result[i] = holds(KEYS[3 * i - 2], KEYS[3 * i - 1], ARGV[a + 1], ARGV[a + 2], ARGV[1], ARGV[2])
            if result[i] == 1 then
                redis.call('PEXPIRE', KEYS[3 * i], ARGV[2])
                redis.call('PEXPIRE', KEYS[3 * i - 1], ARGV[2])
            end
        end
        return result
        ",
    )
});

/// Takes the next events from the inbox, only for the lease's holder:
/// `KEYS = [owner, fence, inbox]`, `ARGV = [owner value, fence, lease_ms,
/// ttl_ms, count]`. Returns the events (maybe none), or nil if the lease is
/// another's: a stale owner must leave them to the new one.
pub(super) static POP: LazyLock<Script> = LazyLock::new(|| {
    with_holds(
        r"
        if holds(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3], ARGV[4]) == 0 then return nil end
        return redis.call('LPOP', KEYS[3], ARGV[5]) or {}
        ",
    )
});

/// Gives a lease up and tells the followers: `KEYS = [owner]`,
/// `ARGV = [owner value, updates channel, payload]`.
pub(super) static RELEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
        if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
        redis.call('DEL', KEYS[1])
        redis.call('PUBLISH', ARGV[2], ARGV[3])
        return 1
        ",
    )
});

/// Hands events to the owner: `KEYS = [inbox, owner]`,
/// `ARGV = [wake channel, ttl_ms, max inbox, event...]`. Returns whether
/// anyone owns the session (1 or 0), so a follower learns at once that it
/// must take over; or -1, with nothing pushed, when the inbox would grow
/// past its bound (the owner's queue limit): the owner is behind, and the
/// follower must wait.
pub(super) static FORWARD: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
        if redis.call('LLEN', KEYS[1]) + #ARGV - 3 > tonumber(ARGV[3]) then
            return -1
        end
        redis.call('RPUSH', KEYS[1], unpack(ARGV, 4))
        redis.call('PEXPIRE', KEYS[1], ARGV[2])
        redis.call('PUBLISH', ARGV[1], '')
        return redis.call('EXISTS', KEYS[2])
        ",
    )
});
