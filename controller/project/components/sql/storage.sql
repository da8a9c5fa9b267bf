-- storage: Storage logs in as supabase_storage_admin, migrates the storage schema, and switches
-- to the API roles through authenticator (rest.sql, earlier in registry order).
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'supabase_storage_admin') THEN
    CREATE ROLE supabase_storage_admin LOGIN NOINHERIT NOREPLICATION;
  END IF;
END $$;
ALTER ROLE supabase_storage_admin LOGIN NOINHERIT NOSUPERUSER;
GRANT authenticator TO supabase_storage_admin;
-- postgres manages storage policies.
GRANT supabase_storage_admin TO postgres;
-- Storage runs unqualified migrations (migrations) in its schema.
ALTER ROLE supabase_storage_admin SET search_path = storage;
SELECT format('GRANT CREATE, CONNECT, TEMPORARY ON DATABASE %I TO supabase_storage_admin',
              current_database()) \gexec

-- Owned by supabase_admin as on the image, with the service admin holding ALL.
CREATE SCHEMA IF NOT EXISTS storage AUTHORIZATION supabase_admin;
GRANT USAGE ON SCHEMA storage TO postgres, anon, authenticated, service_role;
GRANT ALL ON SCHEMA storage TO postgres, supabase_storage_admin;

-- Tables, functions and sequences postgres creates in storage are usable by the API roles.
ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA storage
  GRANT ALL ON TABLES TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA storage
  GRANT ALL ON FUNCTIONS TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA storage
  GRANT ALL ON SEQUENCES TO anon, authenticated, service_role;
