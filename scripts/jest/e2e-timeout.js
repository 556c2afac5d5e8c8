// `testTimeout` is a global Jest option, not a per-project one: set the e2e budget here.
jest.setTimeout(120_000);
