// Package delivery pushes a finished product feed to where an AI agent
// platform ingests it.
//
// Two targets exist because the platforms offer two intakes:
//
//   - SFTP ([PushSFTP]): OpenAI's current intake is a full snapshot
//     (jsonl.gz or csv.gz) under a stable file name that is overwritten in
//     place at least daily. The upload goes to a temporary name and is
//     renamed over the final name only once complete, so the ingester never
//     reads half a feed.
//   - ACP Feed API ([PushACPFeed], version 2026-04-17): products are
//     upserted by id with PATCH /feeds/{id}/products in batches, each
//     batch carrying an Idempotency-Key so a retried batch is applied once.
//
// The package takes feed content as bytes (an io.Reader, or one JSON object
// per product) rather than typed products, so it does not depend on how the
// feed is built. [IsRetryable] tells a job runner whether a failure is worth
// another attempt later; [Describe] words a failure for the merchant by its
// class (timed out, refused, TLS, HTTP status…), never with the remote
// answer or an address.
//
// Every connection goes through the outbound-network policy (app/netguard):
// a nil HTTP client or SFTPTarget.Dial means its strictest form, public
// addresses only, and redirects are never followed.
package delivery
