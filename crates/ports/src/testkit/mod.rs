//! Contract suites every implementation of a port must pass.
