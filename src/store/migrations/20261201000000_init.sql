-- The conversation store shared by replicas (src/store/postgres.rs). Times are Unix seconds, except
-- chats.recent (Unix milliseconds, as api::Chat keeps them).

-- One row per chat: its state in the versioned encoding of store::encode (NULL once forgotten; the row
-- stays so that `applied` keeps refusing a redelivered update), the compare-and-set version, the last
-- update applied, and the times of its recent messages (the flood limit).
CREATE TABLE chats (
    chat        BIGINT PRIMARY KEY,
    state       BYTEA,
    version     BIGINT NOT NULL,
    applied     BIGINT NOT NULL DEFAULT 0,
    recent      BIGINT[] NOT NULL DEFAULT '{}',
    -- State::last_active, for the staff's count of active chats.
    last_active BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX chats_last_active ON chats (last_active) WHERE state IS NOT NULL;

-- Replies written with the state that produced them, deleted once delivered.
CREATE TABLE outbox (
    id            BIGSERIAL PRIMARY KEY,
    chat          BIGINT NOT NULL,
    delivery      JSONB NOT NULL,
    claimed_until BIGINT NOT NULL
);
CREATE INDEX outbox_by_chat ON outbox (chat, id);

-- Questions the bot could not answer, under their normalised (redacted, cut) text: no chat id.
CREATE TABLE unanswered (
    normalized TEXT PRIMARY KEY,
    text       TEXT NOT NULL,
    count      BIGINT NOT NULL,
    first_seen BIGINT NOT NULL,
    last_seen  BIGINT NOT NULL,
    decision   TEXT NOT NULL,
    top        TEXT,
    score      REAL NOT NULL
);
CREATE INDEX unanswered_last_seen ON unanswered (last_seen);

-- Answers citizens marked 👎, under the entry id.
CREATE TABLE not_helpful (
    entry      TEXT PRIMARY KEY,
    count      BIGINT NOT NULL,
    first_seen BIGINT NOT NULL,
    last_seen  BIGINT NOT NULL
);

-- What happened, counted by kind and hour (Unix seconds / 3600).
CREATE TABLE counters (
    kind  SMALLINT NOT NULL,
    hour  BIGINT NOT NULL,
    count BIGINT NOT NULL,
    PRIMARY KEY (kind, hour)
);
CREATE INDEX counters_hour ON counters (hour);
