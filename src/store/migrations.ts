// Numbered schema migrations. `PRAGMA user_version` holds the number of steps applied; step N
// (1-based) turns a version N-1 database into version N. Append new steps at the end and never
// edit one that has shipped: databases in the field have already run it.

export interface Migration {
  /** What the step does, for error messages. */
  description: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    description: 'initial schema: probes, decisions, bans, counters, log cursors, report runs',
    sql: `
      CREATE TABLE probes (
        id          INTEGER PRIMARY KEY,
        at          INTEGER NOT NULL,
        source      TEXT    NOT NULL,
        destination TEXT,
        port        INTEGER NOT NULL,
        protocol    TEXT    NOT NULL,
        technique   TEXT    NOT NULL,
        mode        TEXT    NOT NULL,
        sensor      TEXT    NOT NULL
      );
      CREATE INDEX probes_at ON probes (at);
      CREATE INDEX probes_source_at ON probes (source, at);

      CREATE TABLE decisions (
        id       INTEGER PRIMARY KEY,
        at       INTEGER NOT NULL,
        address  TEXT    NOT NULL,
        kind     TEXT    NOT NULL CHECK (kind IN ('block', 'release', 'skip')),
        reason   TEXT    NOT NULL,
        detail   TEXT    NOT NULL,
        body     TEXT    NOT NULL
      );
      CREATE INDEX decisions_at ON decisions (at);
      CREATE INDEX decisions_address_at ON decisions (address, at);

      CREATE TABLE bans (
        id             INTEGER PRIMARY KEY,
        address        TEXT    NOT NULL,
        family         INTEGER NOT NULL CHECK (family IN (4, 6)),
        created_at     INTEGER NOT NULL,
        until          INTEGER,
        state          TEXT    NOT NULL CHECK (state IN ('active', 'released', 'expired')),
        origin         TEXT    NOT NULL CHECK (origin IN ('detector', 'manual')),
        reason         TEXT    NOT NULL,
        offence        INTEGER NOT NULL,
        evidence       TEXT,
        port           INTEGER,
        protocol       TEXT,
        mode           TEXT,
        released_at    INTEGER,
        release_reason TEXT,
        backends       TEXT    NOT NULL DEFAULT '{}'
      );
      -- At most one active ban per address: a second one would mean a duplicate rule.
      CREATE UNIQUE INDEX bans_one_active ON bans (address) WHERE state = 'active';
      CREATE INDEX bans_address_created ON bans (address, created_at);
      CREATE INDEX bans_created ON bans (created_at);
      CREATE INDEX bans_active_until ON bans (until) WHERE state = 'active';

      CREATE TABLE counters (
        name  TEXT PRIMARY KEY,
        value INTEGER NOT NULL
      ) WITHOUT ROWID;

      CREATE TABLE log_cursors (
        source     TEXT PRIMARY KEY,
        position   TEXT    NOT NULL,
        updated_at INTEGER NOT NULL
      ) WITHOUT ROWID;

      CREATE TABLE report_runs (
        id          INTEGER PRIMARY KEY,
        started_at  INTEGER NOT NULL,
        finished_at INTEGER NOT NULL,
        lines       INTEGER NOT NULL,
        delivered   INTEGER NOT NULL CHECK (delivered IN (0, 1)),
        error       TEXT
      );
      CREATE INDEX report_runs_started ON report_runs (started_at);
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS.length;
