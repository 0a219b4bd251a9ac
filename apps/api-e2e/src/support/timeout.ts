// End-to-end tests start real processes. A project's testTimeout is ignored when Jest runs
// several projects, so it is set here (setupFilesAfterEnv is per project).
jest.setTimeout(60_000);
