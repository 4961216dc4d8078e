import { sql, type Kysely } from 'kysely';

/**
 * API processes keep what a key hash resolved to in memory; this tells them at once when a
 * key is revoked or removed: a NOTIFY on `sluice_api_keys` with the key's hash, sent when
 * the revoking transaction commits.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE FUNCTION sluice_api_key_changed() RETURNS trigger
    LANGUAGE plpgsql AS $fn$
    BEGIN
      PERFORM pg_notify('sluice_api_keys', encode(OLD.key_hash, 'hex'));
      RETURN NULL;
    END
    $fn$;
    CREATE TRIGGER api_keys_changed AFTER UPDATE OF revoked_at, key_hash OR DELETE ON api_keys
      FOR EACH ROW EXECUTE FUNCTION sluice_api_key_changed();
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TRIGGER api_keys_changed ON api_keys;
    DROP FUNCTION sluice_api_key_changed();
  `.execute(db);
}
