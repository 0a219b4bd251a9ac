// Integration tests start real apps against real Redis and PostgreSQL; on a loaded 2-core
// machine a hook that builds an app can take longer than Jest's 5 s default. A project's own
// testTimeout is ignored when Jest runs several projects, so it is set here, for every project
// that does not bring its own setup file.
jest.setTimeout(30_000);
