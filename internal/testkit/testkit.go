// Package testkit holds the small helpers that several packages' tests
// wrote for themselves: a log sink many goroutines may write to
// (LogBuffer), a clock tests move by hand (Clock), a JSON "respeller"
// for differential fuzz tests (RespellJSON) and the reference
// timestamp-and-body HMAC that signature fuzz tests check against
// (ReferenceMAC), and a loopback listener that counts what reaches it, for
// tests showing a refused dial never connected (CountingListener).
//
// Tests only. Production code never imports testkit (internal/archtest
// fails the build if it does), and testkit imports only the standard
// library, so any package's tests may use it — even acp's, which must stay
// stdlib-only.
package testkit
