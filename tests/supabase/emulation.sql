-- What the Supabase tests need of a Supabase database, on plain PostgreSQL (run as a superuser).
-- Facts from ../shared/reference/supabase.md: the three API roles (service_role bypasses RLS),
-- the auth.* helpers reading request.jwt.claims (legacy per-claim settings first), pgvector in
-- schema "extensions", and a non-superuser "postgres"-like login role that may become each API
-- role and bypasses RLS (here: mm_supabase_admin). Idempotent.
DO $roles$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'anon') THEN CREATE ROLE anon NOLOGIN; END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authenticated') THEN CREATE ROLE authenticated NOLOGIN; END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'service_role') THEN
    CREATE ROLE service_role NOLOGIN BYPASSRLS;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'mm_supabase_admin') THEN
    CREATE ROLE mm_supabase_admin LOGIN NOSUPERUSER CREATEROLE BYPASSRLS;
  END IF;
  -- A login role that is a member of nothing: acting as a user must fail closed for it.
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'mm_supabase_outsider') THEN
    CREATE ROLE mm_supabase_outsider LOGIN NOSUPERUSER;
  END IF;
END
$roles$;
ALTER ROLE anon INHERIT;
ALTER ROLE authenticated INHERIT;
ALTER ROLE service_role INHERIT;
GRANT anon, authenticated, service_role TO mm_supabase_admin;

CREATE SCHEMA IF NOT EXISTS auth;
GRANT USAGE ON SCHEMA auth TO anon, authenticated, service_role;

CREATE OR REPLACE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE AS $$
  SELECT coalesce(nullif(current_setting('request.jwt.claim.sub', true), ''),
                  (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub'))::uuid
$$;
CREATE OR REPLACE FUNCTION auth.role() RETURNS text LANGUAGE sql STABLE AS $$
  SELECT coalesce(nullif(current_setting('request.jwt.claim.role', true), ''),
                  (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role'))::text
$$;
CREATE OR REPLACE FUNCTION auth.jwt() RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT coalesce(nullif(current_setting('request.jwt.claim', true), ''),
                  nullif(current_setting('request.jwt.claims', true), ''))::jsonb
$$;

CREATE SCHEMA IF NOT EXISTS extensions;
GRANT USAGE ON SCHEMA extensions TO anon, authenticated, service_role;
CREATE EXTENSION IF NOT EXISTS vector WITH SCHEMA extensions;
