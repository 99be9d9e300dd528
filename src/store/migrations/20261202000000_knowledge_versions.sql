-- Published versions of the knowledge, shared by every replica (src/store/postgres.rs, PgHistory).
-- Numbers are given by the database under a table lock, so two replicas publishing at once never get
-- the same one and the history has no gaps. Times are Unix seconds.
CREATE TABLE knowledge_versions (
    number       BIGINT PRIMARY KEY,
    who          TEXT NOT NULL,
    note         TEXT NOT NULL,
    published_at BIGINT NOT NULL
);

-- The files of each version as text, in the order they were published (faq.yaml first).
CREATE TABLE knowledge_files (
    version  BIGINT NOT NULL REFERENCES knowledge_versions (number),
    position INT NOT NULL,
    name     TEXT NOT NULL,
    body     TEXT NOT NULL,
    PRIMARY KEY (version, name)
);

-- Review items (the redacted, normalised question) the staff dismissed from the console's inbox.
CREATE TABLE dismissed_reviews (
    key          TEXT PRIMARY KEY,
    who          TEXT NOT NULL,
    dismissed_at BIGINT NOT NULL
);
