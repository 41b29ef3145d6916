//! The Lua scripts: every step that checks ownership and then writes is one
//! script, so Redis runs the check and the write with nothing in between.
//! That is the fix for Reflex's issue 6855, where `set_state` read the lock
//! and wrote in two commands and a stale worker could slip through the gap.
//! Each script also takes a whole batch, so a save of N sessions costs one
//! round trip, not 2N as in Reflex's issue 6848.

use std::sync::LazyLock;

use redis::Script;

/// Takes the lease if nobody holds it, with a fence higher than any before:
/// `KEYS = [owner, fence, record]`, `ARGV = [instance, lease_ms]`. Returns
/// `[fence or 0, record or nil]`, so joining a session is one round trip.
pub(super) static ACQUIRE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
        local record = redis.call('GET', KEYS[3])
        if redis.call('EXISTS', KEYS[1]) == 1 then return {0, record} end
        local fence = redis.call('INCR', KEYS[2])
        redis.call('SET', KEYS[1], ARGV[1] .. ':' .. fence, 'PX', ARGV[2])
        return {fence, record}
        ",
    )
});

/// The fenced save of a batch: per session `KEYS += [owner, record]` and
/// `ARGV += [owner value, record, updates channel, payload]`, after
/// `ARGV[1] = record ttl_ms`. A session's record is written, and its
/// updates published, only if the owner key still holds this holder's
/// fence. Returns one 1 (saved) or 0 (fenced out) per session.
pub(super) static SAVE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
        local saved = {}
        for i = 1, #KEYS / 2 do
            local a = 1 + (i - 1) * 4
            if redis.call('GET', KEYS[2 * i - 1]) == ARGV[a + 1] then
                redis.call('SET', KEYS[2 * i], ARGV[a + 2], 'PX', ARGV[1])
                redis.call('PUBLISH', ARGV[a + 3], ARGV[a + 4])
                saved[i] = 1
            else
                saved[i] = 0
            end
        end
        return saved
        ",
    )
});

/// Renews a batch of leases: per session `KEYS += [owner, fence, record]`
/// and `ARGV += [owner value, fence]`, after `ARGV = [lease_ms, ttl_ms]`.
/// Per session: 1 renewed; 2 the key was gone but no one took a later
/// fence (the lease lapsed in a pause, or Redis restarted empty), so it is
/// taken back and the record must be saved again; 0 lost to a newer holder.
pub(super) static RENEW: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
        local result = {}
        for i = 1, #KEYS / 3 do
            local owner, fence, record = KEYS[3 * i - 2], KEYS[3 * i - 1], KEYS[3 * i]
            local mine, my_fence = ARGV[2 * i + 1], ARGV[2 * i + 2]
            local holder = redis.call('GET', owner)
            result[i] = 0
            if holder == mine then
                redis.call('PEXPIRE', owner, ARGV[1])
                redis.call('PEXPIRE', record, ARGV[2])
                result[i] = 1
            elseif not holder then
                local last = redis.call('GET', fence)
                if not last or last == my_fence then
                    redis.call('SET', fence, my_fence)
                    redis.call('SET', owner, mine, 'PX', ARGV[1])
                    result[i] = 2
                end
            end
        end
        return result
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
/// `ARGV = [wake channel, ttl_ms, event...]`. Returns whether anyone owns
/// the session, so a follower learns at once that it must take over.
pub(super) static FORWARD: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
        redis.call('RPUSH', KEYS[1], unpack(ARGV, 3))
        redis.call('PEXPIRE', KEYS[1], ARGV[2])
        redis.call('PUBLISH', ARGV[1], '')
        return redis.call('EXISTS', KEYS[2])
        ",
    )
});
