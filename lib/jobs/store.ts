/**
 * The embedded job store: SQLite through bun:sqlite at the configured path (default
 * `$SEELIE_HOME/jobs.db`). WAL and a busy timeout let several shells submit at once (ids come from
 * AUTOINCREMENT inside one INSERT, so they are distinct and none is lost). The schema version is
 * SQLite's `user_version`; `MIGRATIONS[n]` moves a store from version n to n+1. A file that is not
 * a seelie store (unreadable, corrupt, foreign, newer) is refused before anything is written to it.
 */
import { Database } from "bun:sqlite";
import { existsSync, mkdirSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { errorMessage, SeelieError } from "../errors.ts";
import type { BackendRef, EnvVar, JobRecord, JobSpec, JobStatus } from "./types.ts";

/** Migrations: index n upgrades a store from user_version n to n+1. */
export const MIGRATIONS: readonly ((db: Database) => void)[] = [
  (db) => {
    db.run(`CREATE TABLE jobs (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      kind TEXT NOT NULL,
      name TEXT NOT NULL,
      description TEXT NOT NULL,
      cluster TEXT NOT NULL,
      namespace TEXT NOT NULL,
      cpu REAL NOT NULL,
      memory REAL NOT NULL,
      gpu INTEGER NOT NULL,
      worker_count INTEGER NOT NULL,
      image TEXT NOT NULL,
      entrypoint_type TEXT NOT NULL,
      entrypoint TEXT NOT NULL,
      env TEXT NOT NULL,
      status TEXT NOT NULL,
      message TEXT,
      backend TEXT,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL
    )`);
  },
];

/** The schema version this release writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** Filters of `seelie job list`. */
export interface ListFilter {
  status?: string;
  /** Any of these statuses (exact case). */
  statuses?: readonly string[];
  cluster?: string;
  /** Substring of the job name, any case. */
  name?: string;
  limit?: number;
}

interface Row {
  id: number;
  kind: string;
  name: string;
  description: string;
  cluster: string;
  namespace: string;
  cpu: number;
  memory: number;
  gpu: number;
  worker_count: number;
  image: string;
  entrypoint_type: string;
  entrypoint: string;
  env: string;
  status: string;
  message: string | null;
  backend: string | null;
  created_at: string;
  updated_at: string;
}

function fromRow(r: Row): JobRecord {
  const env = (JSON.parse(r.env) as [string, string][]).map(([name, value]): EnvVar => ({ name, value }));
  const spec: JobSpec = {
    name: r.name,
    description: r.description,
    cluster: r.cluster,
    namespace: r.namespace,
    cpu: r.cpu,
    memory: r.memory,
    gpu: r.gpu,
    workerCount: r.worker_count,
    image: r.image,
    entrypointType: r.entrypoint_type,
    entrypoint: r.entrypoint,
    env,
  };
  const rec: JobRecord = { id: r.id, kind: "tfjob", spec, status: r.status as JobStatus, createdAt: r.created_at, updatedAt: r.updated_at };
  if (r.message !== null) rec.message = r.message;
  if (r.backend !== null) rec.backend = JSON.parse(r.backend) as BackendRef;
  return rec;
}

/** The error for a store seelie cannot use; the file is left as it is. */
function storeError(path: string, err: unknown): SeelieError {
  if (err instanceof SeelieError) return err;
  const msg = errorMessage(err);
  const code = (err as { code?: string }).code ?? "";
  if (/NOTADB|CORRUPT/.test(code) || /not a database|malformed|corrupt/i.test(msg)) {
    return new SeelieError(`the job store ${path} is damaged or not a SQLite database (${msg}); it was left untouched`, {
      hint: `move it aside (mv '${path}' '${path}.bad') so seelie starts a new store, or point SEELIE_JOB_STORE at another file`,
    });
  }
  if (/BUSY|LOCKED/.test(code) || /database is locked/i.test(msg)) {
    return new SeelieError(`the job store ${path} stayed locked by another seelie process (${msg})`, {
      hint: "try again in a moment",
      cause: err,
    });
  }
  return new SeelieError(`cannot use the job store ${path}: ${msg}`, {
    hint: "check that the path is a readable and writable file (SEELIE_JOB_STORE, or jobStore in the config)",
  });
}

/** An open job store. Create with `JobStore.open()`; `close()` when done. */
export class JobStore {
  private constructor(
    readonly path: string,
    private readonly db: Database | undefined,
  ) {}

  /**
   * Opens the store at `path`. With `create`, a missing file (and its directory) is created and
   * migrated; without, a missing store reads as empty. Throws a SeelieError naming the file when it
   * is unreadable, damaged, not a seelie store, or written by a newer seelie.
   */
  static open(path: string, opts: { create?: boolean } = {}): JobStore {
    // Switching a new store to WAL, or migrating it, can meet SQLITE_BUSY at once (without the busy
    // handler) while another process does the same: retry the whole opening for a while.
    const deadline = Date.now() + 15_000;
    for (let attempt = 0; ; attempt++) {
      try {
        return JobStore.openOnce(path, opts);
      } catch (err) {
        const busy = /busy|locked/i.test(`${(err as { cause?: { code?: string } }).cause?.code ?? ""} ${errorMessage(err)}`);
        if (!busy || Date.now() > deadline) throw err;
        Bun.sleepSync(Math.min(200, 5 * 2 ** attempt) * (0.5 + Math.random()));
      }
    }
  }

  private static openOnce(path: string, opts: { create?: boolean }): JobStore {
    const exists = existsSync(path);
    if (!exists && !opts.create) return new JobStore(path, undefined);
    if (exists && !statSync(path).isFile()) {
      throw new SeelieError(`cannot use the job store ${path}: it is not a regular file`, {
        hint: "point SEELIE_JOB_STORE (or jobStore in the config) at a file",
      });
    }
    let db: Database | undefined;
    try {
      if (!exists) mkdirSync(dirname(path), { recursive: true });
      db = new Database(path, { create: !!opts.create, readwrite: true, strict: true });
      db.run("PRAGMA busy_timeout = 15000");
      // Reads the header: a damaged or foreign file fails here, before any write. One statement reads
      // both, so another process's migration cannot commit between them (version 0 with a table).
      const { version, tables } = db
        .query("SELECT (SELECT user_version FROM pragma_user_version) AS version, (SELECT count(*) FROM sqlite_master) AS tables")
        .get() as { version: number; tables: number };
      if (version > SCHEMA_VERSION) {
        throw new SeelieError(`the job store ${path} has schema version ${version}, newer than this seelie knows (${SCHEMA_VERSION})`, {
          hint: "upgrade seelie (bunx seelie@latest), or point SEELIE_JOB_STORE at another file",
        });
      }
      if (version === 0 && tables > 0) {
        throw new SeelieError(`${path} is a SQLite database but not a seelie job store; it was left untouched`, {
          hint: "point SEELIE_JOB_STORE (or jobStore in the config) at another file",
        });
      }
      if (version < SCHEMA_VERSION && !opts.create) {
        // A reader never migrates: an empty store at an older version simply has no jobs.
        if (version === 0) {
          db.close();
          return new JobStore(path, undefined);
        }
      }
      if ((db.query("PRAGMA journal_mode").get() as { journal_mode: string }).journal_mode !== "wal") {
        db.run("PRAGMA journal_mode = WAL");
      }
      db.run("PRAGMA synchronous = NORMAL");
      if (version < SCHEMA_VERSION) migrate(db);
      return new JobStore(path, db);
    } catch (err) {
      db?.close();
      throw storeError(path, err);
    }
  }

  private run<T>(f: (db: Database) => T, empty: T): T {
    if (!this.db) return empty;
    try {
      return f(this.db);
    } catch (err) {
      throw storeError(this.path, err);
    }
  }

  /** Records a new job and returns it with its id. */
  insert(spec: JobSpec, status: JobStatus, now = new Date()): JobRecord {
    if (!this.db) throw new SeelieError(`the job store ${this.path} was opened read-only`);
    const at = now.toISOString();
    const row = this.run(
      (db) =>
        db
          .query(
            `INSERT INTO jobs (kind, name, description, cluster, namespace, cpu, memory, gpu, worker_count, image,
               entrypoint_type, entrypoint, env, status, created_at, updated_at)
             VALUES ('tfjob', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
          )
          .get(
            spec.name,
            spec.description,
            spec.cluster,
            spec.namespace,
            spec.cpu,
            spec.memory,
            spec.gpu,
            spec.workerCount,
            spec.image,
            spec.entrypointType,
            spec.entrypoint,
            JSON.stringify(spec.env.map((e) => [e.name, e.value])),
            status,
            at,
            at,
          ) as Row,
      undefined,
    );
    if (!row) throw new SeelieError(`the job store ${this.path} did not return the new job`);
    return fromRow(row);
  }

  /** Runs `f` in one write transaction (bulk inserts, e.g. the benchmark). */
  transaction<T>(f: () => T): T {
    if (!this.db) throw new SeelieError(`the job store ${this.path} was opened read-only`);
    return this.run((db) => db.transaction(f).immediate(), undefined as T);
  }

  /** The job with this id, or undefined. */
  get(id: number): JobRecord | undefined {
    const row = this.run((db) => db.query("SELECT * FROM jobs WHERE id = ?").get(id) as Row | null, null);
    return row ? fromRow(row) : undefined;
  }

  /** Records what the backend said (status, message, where it keeps the job). */
  update(
    id: number,
    change: { status?: JobStatus; message?: string | null; backend?: BackendRef },
    now = new Date(),
    /** Leave the record alone when its status is one of these by now (a refresh must not undo a delete). */
    unlessStatus: readonly JobStatus[] = [],
  ): void {
    this.run((db) => {
      const sets: string[] = ["updated_at = ?"];
      const vals: (string | number | null)[] = [now.toISOString()];
      if (change.status !== undefined) {
        sets.push("status = ?");
        vals.push(change.status);
      }
      if (change.message !== undefined) {
        sets.push("message = ?");
        vals.push(change.message);
      }
      if (change.backend !== undefined) {
        sets.push("backend = ?");
        vals.push(JSON.stringify(change.backend));
      }
      const guard = unlessStatus.length ? ` AND status NOT IN (${unlessStatus.map(() => "?").join(", ")})` : "";
      db.query(`UPDATE jobs SET ${sets.join(", ")} WHERE id = ?${guard}`).run(...vals, id, ...unlessStatus);
    }, undefined);
  }

  /** Removes a job's record (`seelie job delete --forget`). Its id is never given out again. */
  remove(id: number): void {
    this.run((db) => db.query("DELETE FROM jobs WHERE id = ?").run(id), undefined);
  }

  /** Jobs newest first, filtered. */
  list(filter: ListFilter = {}): JobRecord[] {
    return this.run((db) => {
      const where: string[] = [];
      const vals: (string | number)[] = [];
      if (filter.status) {
        where.push("status = ? COLLATE NOCASE");
        vals.push(filter.status);
      }
      if (filter.statuses) {
        where.push(`status IN (${filter.statuses.map(() => "?").join(", ") || "NULL"})`);
        vals.push(...filter.statuses);
      }
      if (filter.cluster) {
        where.push("cluster = ?");
        vals.push(filter.cluster);
      }
      if (filter.name) {
        where.push("instr(lower(name), lower(?)) > 0");
        vals.push(filter.name);
      }
      const sql = `SELECT * FROM jobs ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY id DESC LIMIT ?`;
      return (db.query(sql).all(...vals, filter.limit ?? 20) as Row[]).map(fromRow);
    }, []);
  }

  /** The number of stored jobs. */
  count(): number {
    return this.run((db) => (db.query("SELECT count(*) AS n FROM jobs").get() as { n: number }).n, 0);
  }

  close(): void {
    this.db?.close();
  }
}

function migrate(db: Database): void {
  db.transaction(() => {
    // Re-read inside the write lock: another process may have migrated meanwhile.
    const version = (db.query("PRAGMA user_version").get() as { user_version: number }).user_version;
    for (let v = version; v < SCHEMA_VERSION; v++) MIGRATIONS[v]!(db);
    db.run(`PRAGMA user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}
