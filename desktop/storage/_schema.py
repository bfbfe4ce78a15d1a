"""Schema versions of the history database, applied in order and recorded in PRAGMA user_version.

Never edit a shipped step: add a new one. A fresh database runs every step from version 0, so the migration path
is exercised on every first start, not only on upgrades.

v1: conversations and messages.
v2: soft delete of conversations (undo), edit revisions (`messages.superseded_by`), image attachments, FTS5 search
    kept in sync by triggers, and list indexes that skip deleted conversations.
v3: answer_parts, the appended checkpoints of answers still streaming.
v4: messages.left_out (left out of what is sent next, after the content filter); a stored failure keeps the button
    it offered (`error.action`): older failures get the one they showed, guessed once here from their status.
V5: an answer's thinking (`messages.reasoning`, the model's reasoning summary, and `messages.thinking_ms`, the time
    from the request to the first words) and the settings it was sent with (`messages.settings`, JSON: the reasoning
    effort and the instructions preset's name). Search covers the thinking: the FTS index gets a `reasoning` column
    (rebuilt here from every existing row).
V6: usage_log, one row of token counts per answer received (kept when its conversation is deleted or its answer
    replaced, so the Usage view shows what was really used); filled here from the answers already stored.
V7: attached files are stored once by content (`files`, keyed by SHA-256; `attachments` rows point at them and a
    file goes when its last attachment does), with the text read from documents in `files.text`, searchable through
    its own full-text index (`files_fts`), apart from the messages' one. `sha256()` is the store's SQL function.
"""

from __future__ import annotations

V1 = """
CREATE TABLE conversations (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL DEFAULT '',
    profile_id TEXT,
    deployment TEXT,
    api TEXT CHECK (api IN ('responses', 'chat')),
    instructions TEXT NOT NULL DEFAULT '',
    params TEXT NOT NULL DEFAULT '{}',
    pinned INTEGER NOT NULL DEFAULT 0,
    archived INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX conversations_by_list ON conversations (archived, pinned, updated_at);
CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('user', 'assistant', 'system')),
    text TEXT NOT NULL DEFAULT '',
    outcome TEXT NOT NULL
        CHECK (outcome IN ('complete', 'streaming', 'stopped', 'failed', 'filtered', 'interrupted')),
    error TEXT,
    usage TEXT,
    model TEXT,
    deployment TEXT,
    api TEXT,
    request_id TEXT,
    filter_categories TEXT NOT NULL DEFAULT '[]',
    created_at INTEGER NOT NULL,
    finished_at INTEGER,
    duration_ms INTEGER,
    UNIQUE (conversation_id, position)
);
"""

V2 = """
ALTER TABLE conversations ADD COLUMN deleted_at INTEGER;
DROP INDEX conversations_by_list;
-- Two partial indexes so both list queries (with and without archived) walk an index in display order.
CREATE INDEX conversations_listed ON conversations (pinned, updated_at) WHERE deleted_at IS NULL;
CREATE INDEX conversations_listed_active ON conversations (pinned, updated_at)
    WHERE deleted_at IS NULL AND archived = 0;
CREATE INDEX conversations_deleted ON conversations (deleted_at) WHERE deleted_at IS NOT NULL;

ALTER TABLE messages ADD COLUMN superseded_by INTEGER REFERENCES messages (id) ON DELETE SET NULL;
-- The foreign key action looks children up by superseded_by: without an index every delete scans messages.
CREATE INDEX messages_superseded ON messages (superseded_by);
-- Lets open() find answers left streaming by a crash without scanning the whole table.
CREATE INDEX messages_streaming ON messages (id) WHERE outcome = 'streaming';

CREATE TABLE attachments (
    id INTEGER PRIMARY KEY,
    message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    mime TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    data BLOB NOT NULL,
    UNIQUE (message_id, position)
);

CREATE VIRTUAL TABLE messages_fts USING fts5 (
    text, content = 'messages', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
    INSERT INTO messages_fts (rowid, text) VALUES (new.id, new.text);
END;
INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');
"""

V3 = """
-- Streaming checkpoints append the text that arrived since the last one, instead of rewriting the whole answer
-- (and re-indexing it for search) every second. finish_answer writes the whole text once and drops the parts;
-- open() folds the parts of an answer cut off by a crash into its text.
CREATE TABLE answer_parts (
    message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    text TEXT NOT NULL,
    PRIMARY KEY (message_id, seq)
) WITHOUT ROWID;
"""

V4 = """
ALTER TABLE messages ADD COLUMN left_out INTEGER NOT NULL DEFAULT 0;
-- Before v4 the button of a failed answer was guessed from its status each time it was shown; record that guess.
UPDATE messages SET error = json_set(error, '$.action',
        CASE WHEN json_extract(error, '$.status') IN (401, 403) THEN 'open_settings' ELSE 'retry' END)
    WHERE error IS NOT NULL AND json_valid(error) AND json_type(error, '$.action') IS NULL
        AND coalesce(json_extract(error, '$.code'), '') NOT IN ('length', 'too_long');
"""

V5 = """
ALTER TABLE messages ADD COLUMN reasoning TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN thinking_ms INTEGER;
ALTER TABLE messages ADD COLUMN settings TEXT;
DROP TRIGGER messages_fts_insert;
DROP TRIGGER messages_fts_delete;
DROP TRIGGER messages_fts_update;
DROP TABLE messages_fts;
CREATE VIRTUAL TABLE messages_fts USING fts5 (
    text, reasoning, content = 'messages', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, text, reasoning) VALUES (new.id, new.text, new.reasoning);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text, reasoning) VALUES ('delete', old.id, old.text, old.reasoning);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF text, reasoning ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text, reasoning) VALUES ('delete', old.id, old.text, old.reasoning);
    INSERT INTO messages_fts (rowid, text, reasoning) VALUES (new.id, new.text, new.reasoning);
END;
INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');
"""

V6 = """
-- What each answer used, for the Usage view. Not tied to its conversation's life: deleting a conversation or
-- replacing an answer does not undo the tokens it used (message_id becomes NULL then).
CREATE TABLE usage_log (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    message_id INTEGER UNIQUE REFERENCES messages (id) ON DELETE SET NULL,
    profile_id TEXT,
    deployment TEXT,
    model TEXT,
    input_tokens INTEGER NOT NULL DEFAULT 0,
    cached_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    reasoning_tokens INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX usage_log_by_time ON usage_log (at);
INSERT INTO usage_log (at, message_id, profile_id, deployment, model, input_tokens, cached_tokens, output_tokens,
        reasoning_tokens)
    SELECT coalesce(m.finished_at, m.created_at), m.id, c.profile_id, m.deployment, m.model,
        coalesce(json_extract(m.usage, '$.input_tokens'), 0), coalesce(json_extract(m.usage, '$.cached_tokens'), 0),
        coalesce(json_extract(m.usage, '$.output_tokens'), 0),
        coalesce(json_extract(m.usage, '$.reasoning_tokens'), 0)
    FROM messages m JOIN conversations c ON c.id = m.conversation_id
    WHERE m.role = 'assistant' AND m.usage IS NOT NULL AND json_valid(m.usage);
"""


V7 = """
CREATE TABLE files (
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL UNIQUE,
    data BLOB NOT NULL,
    text TEXT NOT NULL DEFAULT ''
);
INSERT OR IGNORE INTO files (sha256, data) SELECT sha256(data), data FROM attachments ORDER BY id;
CREATE TABLE attachments_v5 (
    id INTEGER PRIMARY KEY,
    message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    mime TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    file_id INTEGER NOT NULL REFERENCES files (id),
    UNIQUE (message_id, position)
);
INSERT INTO attachments_v5 (id, message_id, position, mime, name, file_id)
    SELECT a.id, a.message_id, a.position, a.mime, a.name, f.id
    FROM attachments a JOIN files f ON f.sha256 = sha256(a.data);
DROP TABLE attachments;
ALTER TABLE attachments_v5 RENAME TO attachments;
CREATE INDEX attachments_file ON attachments (file_id);
-- A file is kept while any message (a current one, an edit's earlier revision, a deleted chat not yet purged) uses it.
CREATE TRIGGER attachments_drop_file AFTER DELETE ON attachments BEGIN
    DELETE FROM files WHERE id = old.file_id AND NOT EXISTS (SELECT 1 FROM attachments WHERE file_id = old.file_id);
END;
CREATE VIRTUAL TABLE files_fts USING fts5 (
    text, content = 'files', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER files_fts_insert AFTER INSERT ON files BEGIN
    INSERT INTO files_fts (rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER files_fts_delete AFTER DELETE ON files BEGIN
    INSERT INTO files_fts (files_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
CREATE TRIGGER files_fts_update AFTER UPDATE OF text ON files BEGIN
    INSERT INTO files_fts (files_fts, rowid, text) VALUES ('delete', old.id, old.text);
    INSERT INTO files_fts (rowid, text) VALUES (new.id, new.text);
END;
"""

MIGRATIONS: tuple[str, ...] = (V1, V2, V3, V4, V5, V6, V7)
"""MIGRATIONS[i] takes a database from version i to version i + 1."""

CURRENT_VERSION = len(MIGRATIONS)
