-- auth: GoTrue logs in as supabase_auth_admin and migrates the auth schema.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'supabase_auth_admin') THEN
    CREATE ROLE supabase_auth_admin LOGIN NOINHERIT NOREPLICATION;
  END IF;
END $$;
ALTER ROLE supabase_auth_admin LOGIN NOINHERIT NOSUPERUSER;
-- postgres manages auth triggers.
GRANT supabase_auth_admin TO postgres;
-- GoTrue runs unqualified migrations (schema_migrations) in its schema.
ALTER ROLE supabase_auth_admin SET search_path = auth;
SELECT format('GRANT CREATE, CONNECT, TEMPORARY ON DATABASE %I TO supabase_auth_admin',
              current_database()) \gexec

-- Owned by supabase_admin as on the image, with the service admin holding ALL.
CREATE SCHEMA IF NOT EXISTS auth AUTHORIZATION supabase_admin;
GRANT USAGE ON SCHEMA auth TO postgres, anon, authenticated, service_role;
GRANT ALL ON SCHEMA auth TO postgres, supabase_auth_admin;

-- auth.uid(), auth.role(), auth.email(): the claims PostgREST (>= 9) puts in request.jwt.claims,
-- else the legacy per-claim settings. Created when missing or still legacy-only; GoTrue later
-- replaces them with CREATE OR REPLACE, which only the owner may do, hence supabase_auth_admin.
DO $do$
DECLARE
  fn record;
BEGIN
  FOR fn IN SELECT * FROM (VALUES ('uid', 'uuid', 'sub'), ('role', 'text', 'role'),
                                  ('email', 'text', 'email')) AS f(name, type, claim) LOOP
    IF NOT EXISTS (
        SELECT FROM pg_proc p
        WHERE p.pronamespace = 'auth'::regnamespace AND p.proname = fn.name AND p.pronargs = 0
          AND p.prosrc LIKE '%request.jwt.claims%') THEN
      EXECUTE format(
          $f$CREATE OR REPLACE FUNCTION auth.%I() RETURNS %s LANGUAGE sql STABLE AS $body$
               SELECT coalesce(
                 nullif(current_setting('request.jwt.claim.%s', true), ''),
                 nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> %L
               )::%s
             $body$$f$,
          fn.name, fn.type, fn.claim, fn.claim, fn.type);
    END IF;
    IF (SELECT p.proowner FROM pg_proc p
        WHERE p.pronamespace = 'auth'::regnamespace AND p.proname = fn.name AND p.pronargs = 0)
       <> 'supabase_auth_admin'::regrole THEN
      EXECUTE format('ALTER FUNCTION auth.%I() OWNER TO supabase_auth_admin', fn.name);
    END IF;
  END LOOP;
END $do$;
GRANT EXECUTE ON FUNCTION auth.uid(), auth.role(), auth.email()
  TO postgres, anon, authenticated, service_role;
