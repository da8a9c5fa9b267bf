-- rest: PostgREST logs in as authenticator and switches to the JWT's role.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'authenticator') THEN
    CREATE ROLE authenticator LOGIN NOINHERIT;
  END IF;
END $$;
ALTER ROLE authenticator LOGIN NOINHERIT NOSUPERUSER NOBYPASSRLS;

-- It must never reach a superuser (the image's first migration made it a member of
-- supabase_admin, a later one revoked that).
GRANT anon, authenticated, service_role TO authenticator;
DO $$
DECLARE
  admin text;
BEGIN
  FOR admin IN SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid
               WHERE m.member = 'authenticator'::regrole
                 AND r.rolname IN ('supabase_admin', 'postgres') LOOP
    EXECUTE format('REVOKE %I FROM authenticator', admin);
  END LOOP;
  SELECT string_agg(r.rolname, ', ') INTO admin FROM pg_roles r
  WHERE r.rolsuper AND pg_has_role('authenticator', r.oid, 'MEMBER');
  IF admin IS NOT NULL THEN
    RAISE EXCEPTION 'kubabase bootstrap: authenticator can still become superuser %', admin;
  END IF;
END $$;

ALTER ROLE authenticator SET statement_timeout = '8s';
ALTER ROLE authenticator SET lock_timeout = '8s';
SELECT format('GRANT CONNECT ON DATABASE %I TO authenticator', current_database()) \gexec

-- /graphql/v1 is served from graphql_public.
CREATE SCHEMA IF NOT EXISTS graphql_public AUTHORIZATION supabase_admin;
GRANT USAGE ON SCHEMA graphql_public TO postgres, anon, authenticated, service_role;
GRANT ALL ON SCHEMA graphql_public TO postgres;
