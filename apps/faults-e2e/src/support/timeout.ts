// A scenario starts a whole stack, injects its fault and waits for recovery: minutes, not seconds.
jest.setTimeout(240_000);
