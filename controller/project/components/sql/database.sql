-- database: the superuser check, the owner and admin roles, the API roles every service maps
-- requests to, the extensions schema, and what the API roles may do in public.
-- Only a superuser can create roles with BYPASSRLS, change other superusers or revoke memberships.
DO $$
BEGIN
  IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
    RAISE EXCEPTION 'kubabase bootstrap: PGUSER % is not a superuser (use postgres on plain '
                    'PostgreSQL, supabase_admin on the supabase/postgres image)', current_user;
  END IF;
END $$;

-- Roles. Existing roles keep attributes we do not state (the image gives its admins CREATEROLE;
-- we do not grant it on plain Postgres: in 15 it allows granting pg_* roles).
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'postgres') THEN
    -- As the supabase/postgres image demotes it: an owner of user data, not a superuser. Like
    -- the image's migrate.sh, it owns the database, hence (PG 15) the public schema.
    CREATE ROLE postgres LOGIN CREATEDB CREATEROLE REPLICATION BYPASSRLS;
    EXECUTE format('ALTER DATABASE %I OWNER TO postgres', current_database());
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'supabase_admin') THEN
    CREATE ROLE supabase_admin LOGIN SUPERUSER CREATEDB CREATEROLE REPLICATION BYPASSRLS;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'anon') THEN
    CREATE ROLE anon NOLOGIN INHERIT;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'authenticated') THEN
    CREATE ROLE authenticated NOLOGIN INHERIT;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'service_role') THEN
    CREATE ROLE service_role NOLOGIN INHERIT BYPASSRLS;
  END IF;
END $$;

-- The attributes the services rely on, restated every run (the image created the API roles
-- NOINHERIT and switched them to INHERIT in a later migration).
ALTER ROLE postgres LOGIN;
ALTER ROLE supabase_admin LOGIN;
ALTER ROLE anon NOLOGIN INHERIT;
ALTER ROLE authenticated NOLOGIN INHERIT;
ALTER ROLE service_role NOLOGIN INHERIT BYPASSRLS;

-- postgres may act as the API roles.
GRANT anon, authenticated, service_role TO postgres;

ALTER ROLE anon SET statement_timeout = '3s';
ALTER ROLE authenticated SET statement_timeout = '8s';
ALTER ROLE postgres SET search_path = "$user", public, extensions;

SELECT format('GRANT CREATE, CONNECT, TEMPORARY ON DATABASE %I TO postgres', current_database())
  \gexec

-- Schemas. Owners as on the image: supabase_admin; postgres holds ALL.
CREATE SCHEMA IF NOT EXISTS extensions AUTHORIZATION supabase_admin;
GRANT USAGE ON SCHEMA public, extensions TO postgres, anon, authenticated, service_role;
-- Users' tables are created by postgres (dashboard, migrations), whoever owns public.
GRANT ALL ON SCHEMA public, extensions TO postgres;

-- Extensions where the server ships them (Debian's postgresql-15 does; a slim build may not).
DO $$
DECLARE
  ext text;
BEGIN
  FOREACH ext IN ARRAY ARRAY['uuid-ossp', 'pgcrypto'] LOOP
    IF EXISTS (SELECT FROM pg_available_extensions a WHERE a.name = ext) THEN
      EXECUTE format('CREATE EXTENSION IF NOT EXISTS %I WITH SCHEMA extensions', ext);
    END IF;
  END LOOP;
END $$;

-- Tables, functions and sequences that postgres or supabase_admin create in public (the
-- dashboard's and migrations' roles) are usable by the API roles; RLS decides the rows.
ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public
  GRANT ALL ON TABLES TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public
  GRANT ALL ON FUNCTIONS TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public
  GRANT ALL ON SEQUENCES TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES FOR ROLE supabase_admin IN SCHEMA public
  GRANT ALL ON TABLES TO postgres, anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES FOR ROLE supabase_admin IN SCHEMA public
  GRANT ALL ON FUNCTIONS TO postgres, anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES FOR ROLE supabase_admin IN SCHEMA public
  GRANT ALL ON SEQUENCES TO postgres, anon, authenticated, service_role;
