// Package config reads the process's configuration once, from the
// environment, at start-up: Load returns a Config or every problem found
// at once (each naming its variable), and nothing else reads the
// environment. It holds the defaults the environment can override; the
// checkout's own defaults (session TTL, quote timeout) stay in
// app/checkout and are imported from there.
//
// It may import the root app (DatabaseConfig), app/secret (the keyring's
// format), app/netguard (loopback checks) and app/checkout (its defaults);
// app/service and cmd/acpbridge are its only callers besides tests and
// web's admin-script default.
package config
