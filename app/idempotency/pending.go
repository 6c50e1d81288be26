package idempotency

import (
	"github.com/acpbridge/acpbridge/acp"
)

// Pending is a key to be claimed by the request's own write instead of
// before the request runs (issue 17: a create is then one statement on
// PostgreSQL). The store inserts Record already completed, with the
// answer the write stores, in the same statement or transaction as the
// write, or writes nothing when a record holds the key.
//
// It is for operations whose work has no side effect worth keeping from
// a request that loses the key (acpapi: create, which only prices): the
// work runs before the key is claimed, so a concurrent duplicate also
// runs it, and then answers as a retry would (Begin: the stored answer,
// a conflict, or in flight). A request whose write did not claim the key
// (it failed before writing, or the key was held) settles it with Begin,
// as any request does.
type Pending struct {
	// Record is the record to insert: completed, without ID or Result
	// (the store sets both).
	Record Record
	// Store is the store that must make the claim: the one Begin reads
	// when the write does not claim. A store that is not it claims nothing.
	Store Store
}

// Prepare is the claim of key for a request that claims it with its own
// write, or nil (and no error) when the request is not tracked: no key,
// which 2025-09-29 allows. It checks the key as Begin does, and reads
// nothing.
func (i *Keys) Prepare(scope Scope, key string, version acp.Version, body []byte) (*Pending, error) {
	rec, err := i.record(scope, key, version, body)
	if rec == nil || err != nil {
		return nil, err
	}
	rec.State = Completed
	rec.LeaseUntil = rec.CreatedAt // no request holds a completed record
	return &Pending{Record: *rec, Store: i.Store}, nil
}

// PrepareHeld is Prepare for a request whose write claims the key in
// flight, as Begin would (acpapi: complete, whose write begins the
// payment and whose answer comes once the payment and the order are
// through): Record is in flight, leased from now. Once the write has
// claimed it, Adopt holds the claim.
func (i *Keys) PrepareHeld(scope Scope, key string, version acp.Version, body []byte) (*Pending, error) {
	rec, err := i.record(scope, key, version, body)
	if rec == nil || err != nil {
		return nil, err
	}
	return &Pending{Record: *rec, Store: i.Store}, nil
}

// Adopt holds the in-flight record id that a request's own write claimed
// (PrepareHeld), as Begin's claim: renewed until Finish, Stored or Release.
func (i *Keys) Adopt(id int64) *Claim { return i.newClaim(id) }
