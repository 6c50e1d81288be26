package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/checkout"
	"github.com/acpbridge/acpbridge/app/idempotency"
)

// An update claims its idempotency key with the session's guarded UPDATE
// (issue 17: one statement on PostgreSQL instead of the claim that reads
// the session and then the UPDATE that stores the answer). The update
// runs before the claim, on the session as this replica last wrote or
// read it: the store's short memory of sessions (Store.sessions). That
// memory is a hint and never an authority: the UPDATE writes only where
// the row is still at the remembered row version (and holds the
// remembered personal data), and the claim and the UPDATE land together
// or not at all. So an update computed from a stale memory writes
// nothing, leaves no claim, and the caller runs it the ordinary way.
//
// Why the memory is exact at its row version: every write of a session's
// content bumps row_version (SaveCheckoutSession*, completion.go), so one
// row version of a session names one content; the memory keeps only
// (row version, content) pairs that were committed: reads, and writes
// once their transaction has committed (AfterCommit). Writes that leave
// the row version (ForgetEndedBuyers, RedactCustomer, SealPlainBuyers,
// ResealBuyers) change only the personal data, which the UPDATE also
// guards (buyer_sealed as remembered), or re-encode the same content;
// rows whose buyer is still in plaintext (written before migration
// 00022) are not remembered from a read.

// sessionMemoryTTL is how long a session is remembered after this
// replica last wrote or read it: an agent's next call on a conversation
// comes within seconds; a longer gap costs the ordinary two statements.
const sessionMemoryTTL = 30 * time.Second

// sessionMemoryMax bounds the memory: a row is some 3.5 kB (state and
// sealed buyer), so at most about 30 MB, the sessions of some 270 new
// conversations a second. Past that the memory is emptied when full
// (ttlcache), and updates of the sessions it forgot take the ordinary
// path.
const sessionMemoryMax = 8192

type sessionMemoryKey struct {
	shopID int64
	id     string
}

// rememberSession keeps r (committed, at r.RowVersion) once the
// transaction ctx carries, if any, has committed; until then, and for
// good after a rollback, the session is forgotten.
func (s *Store) rememberSession(ctx context.Context, r checkoutSessionRow) {
	k := sessionMemoryKey{r.ShopID, r.ID}
	s.sessions.Delete(k)
	s.AfterCommit(ctx, func(context.Context) {
		s.sessions.Put(k, r, time.Now(), sessionMemoryTTL, sessionMemoryMax)
	})
}

// forgetSession drops the memory of a session.
func (s *Store) forgetSession(shopID int64, id string) {
	s.sessions.Delete(sessionMemoryKey{shopID, id})
}

// rememberRead keeps a session read from the database, unless its buyer
// is still in plaintext in its state (a row from before migration 00022,
// whose personal data the UPDATE's guard cannot see).
func (s *Store) rememberRead(ctx context.Context, r checkoutSessionRow, cs *checkout.Session) {
	if r.BuyerSealed == nil {
		if _, p := splitSession(cs.State); !p.empty() {
			s.forgetSession(r.ShopID, r.ID)
			return
		}
	}
	s.rememberSession(ctx, r)
}

// rememberedRow is the remembered row of the session, if any.
func (s *Store) rememberedRow(shopID int64, id string) (checkoutSessionRow, bool) {
	return s.sessions.Get(sessionMemoryKey{shopID, id}, time.Now(), sessionMemoryTTL)
}

// RememberedCheckoutSession implements checkout.UpdateClaimingStore: the
// session as this replica last wrote or read it, decoded afresh (the
// caller may change it), if it is remembered.
func (s *Store) RememberedCheckoutSession(shopID int64, id string) (*checkout.Session, bool) {
	r, ok := s.rememberedRow(shopID, id)
	if !ok {
		return nil, false
	}
	cs, err := s.toCheckoutSession(r)
	if err != nil {
		s.forgetSession(shopID, id)
		return nil, false
	}
	return cs, true
}

// MayClaimUpdate implements checkout.UpdateClaimingStore: the session is
// remembered, and claiming updates pay here (claimGate).
func (s *Store) MayClaimUpdate(shopID int64, id string) bool {
	_, ok := s.rememberedRow(shopID, id)
	return ok && s.claimGate.open()
}

// claimGate keeps claiming updates to where they pay. A claiming update
// that finds its session as remembered is one statement instead of two;
// one that finds it moved (the session's last write was another
// replica's) is three, and prices twice. Behind a balancer that spreads a
// conversation's calls over N replicas (round-robin, no sticky
// sessions), a replica's memory of a session is stale about (N-1)/N of
// the time: so the gate counts how claims fared lately (halved every 64,
// after a prior of claimGatePrior found as remembered) and stays open
// while at least two in three found their session as remembered; closed,
// it lets one update in claimGateProbe through, to notice when it would
// pay again (a scale-down, sticky routing).
type claimGate struct {
	mu           sync.Mutex
	init         bool
	hits, misses int
	calls        int
}

const (
	claimGatePrior  = 8
	claimGateWindow = 64
	claimGateProbe  = 8
)

func (g *claimGate) open() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.start()
	if g.hits >= 2*g.misses {
		return true
	}
	g.calls++
	return g.calls%claimGateProbe == 0
}

// record counts a claim that found its session as remembered (hit) or
// not; a held key counts neither.
func (g *claimGate) record(hit bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.start()
	if hit {
		g.hits++
	} else {
		g.misses++
	}
	if g.hits+g.misses >= claimGateWindow {
		g.hits, g.misses = g.hits/2, g.misses/2
	}
}

func (g *claimGate) start() {
	if !g.init {
		g.init, g.hits = true, claimGatePrior
	}
}

// errSessionMoved rolls back a claiming update whose session is no longer
// as remembered (SQLite's transaction).
var errSessionMoved = errors.New("the session moved")

// SaveCheckoutSessionClaiming implements checkout.UpdateClaimingStore: the
// record of a.Claim (an *idempotency.Pending of this store), completed
// with a's answer, and the guarded UPDATE of cs (a session this store
// remembers, at its remembered row version) land together, or nothing is
// written (claimed false): a record holds the key, the session is no
// longer as remembered (its memory is then dropped), or the claim is not
// one this store can make here (another store's, a transaction in ctx,
// records of migration 00014 may exist). Stale holders of the key are
// not dropped here: the caller's ordinary path (Begin) does that.
func (s *Store) SaveCheckoutSessionClaiming(ctx context.Context, cs *checkout.Session, a checkout.AnswerRecord) (bool, error) {
	rec, was, ok, err := s.rememberedClaim(ctx, cs, a.Claim)
	if err != nil || !ok {
		return false, err
	}
	r, err := s.toCheckoutRow(cs)
	if err != nil {
		return false, err
	}
	var claimed bool
	if s.kind == app.DatabasePostgres {
		claimed, err = s.claimAndSave(ctx, r, was, rec, a)
	} else {
		claimed, err = s.claimAndSaveInTx(ctx, cs, r, was, rec, a)
	}
	if errors.Is(err, errSessionMoved) {
		s.forgetSession(cs.ShopID, cs.ID)
		s.claimGate.record(false)
		return false, nil
	}
	if err != nil || !claimed {
		return false, err
	}
	s.claimGate.record(true)
	cs.RowVersion++
	r.RowVersion = cs.RowVersion
	s.rememberSession(ctx, r)
	return true, nil
}

// rememberedClaim checks what a claim made with the write of a remembered
// session needs (SaveCheckoutSessionClaiming, BeginCompletionClaiming):
// claim is an *idempotency.Pending of this store, ctx carries no
// transaction (a failed statement would abort it), cs is still at the
// row version remembered, and no record of migration 00014 may hold the
// key (it would for any API key: Begin looks). It returns the record to
// insert and the remembered row; ok false: claim nothing.
func (s *Store) rememberedClaim(ctx context.Context, cs *checkout.Session, claim any) (rec idempotency.Record, was checkoutSessionRow, ok bool, err error) {
	p, isPending := claim.(*idempotency.Pending)
	if !isPending || p.Store != idempotency.Store(s) {
		return rec, was, false, nil
	}
	if _, inTx := ctx.Value(txKey{}).(*gorm.DB); inTx {
		return rec, was, false, nil
	}
	was, ok = s.rememberedRow(cs.ShopID, cs.ID)
	if !ok || was.RowVersion != cs.RowVersion {
		s.claimGate.record(false) // remembered anew meanwhile (a concurrent call)
		return rec, was, false, nil
	}
	until, err := s.legacyIdempotencyUntil(ctx)
	if err != nil || p.Record.CreatedAt.Before(until) {
		return rec, was, false, err
	}
	return p.Record, was, true, nil
}

// claimAndSave is SaveCheckoutSessionClaiming's one statement
// (PostgreSQL, claimAndSaveSQL).
func (s *Store) claimAndSave(ctx context.Context, r, was checkoutSessionRow, rec idempotency.Record, a checkout.AnswerRecord) (bool, error) {
	id, err := s.reserveIdempotencyID(ctx)
	if err != nil {
		return false, err
	}
	answer, err := s.sealAnswer(id, answerBody(a))
	if err != nil {
		return false, err
	}
	var out struct{ Claimed, Saved int64 }
	err = s.conn(ctx).Raw(claimAndSaveSQL,
		id, rec.ShopID, rec.APIKeyID, string(rec.Operation), rec.SessionID, rec.Key, rec.APIVersion, rec.RequestHash,
		rec.LeaseUntil.UTC(), a.Outcome, answer, rec.CreatedAt.UTC(), rec.ExpiresAt.UTC(),
		r.Status, r.State, r.BuyerSealed, r.BuyerIndex, r.Currency, r.ExpiresAt, r.UpdatedAt,
		r.ID, r.ShopID, was.RowVersion, was.BuyerSealed).Find(&out).Error
	if sessionMovedError(err) {
		return false, errSessionMoved
	}
	if err != nil {
		return false, translate(err, "save checkout session")
	}
	if out.Claimed != out.Saved {
		// Not expected: the statement fails when the claim lands alone.
		return false, fmt.Errorf("save checkout session %s: claimed %d, saved %d", r.ID, out.Claimed, out.Saved)
	}
	return out.Claimed == 1, nil
}

// claimAndSaveSQL inserts the record completed (ON CONFLICT DO NOTHING,
// as claimAndCreateSQL) and, only when it did, updates the session where
// it is still as remembered (row version, sealed personal data). A held
// key writes neither: the UPDATE reads the INSERT's RETURNING. A claim
// without its UPDATE (the session moved) must not stay: the last
// expression then fails the statement (a cast of sessionMovedMark, on
// values only known once both have run, so never folded at planning),
// and PostgreSQL undoes the whole statement, the INSERT included. One row
// otherwise: how many of each were written (0, 0 or 1, 1).
const claimAndSaveSQL = claimCompletedSQL + `,
s AS (
  UPDATE checkout_sessions SET ` + sessionSetSQL + `
  WHERE ` + byShopKey + ` AND row_version = ? AND buyer_sealed IS NOT DISTINCT FROM ? AND EXISTS (SELECT 1 FROM k)
  RETURNING 1),
n AS (SELECT (SELECT count(*) FROM k) AS claimed, (SELECT count(*) FROM s) AS saved)
SELECT claimed, CAST(CASE WHEN claimed = saved THEN saved::text ELSE '` + sessionMovedMark + `' END AS bigint) AS saved FROM n`

// sessionMovedMark is the value whose cast fails claimAndSaveSQL.
const sessionMovedMark = "acpbridge_session_moved"

// sessionMovedError reports whether err is claimAndSaveSQL's own failure.
func sessionMovedError(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "22P02" && strings.Contains(pgErr.Message, sessionMovedMark)
}

// claimAndSaveInTx is claimAndSave in one transaction (SQLite): the
// claim's INSERT, the guarded UPDATE (errSessionMoved rolls the claim
// back), and the answer's finish.
func (s *Store) claimAndSaveInTx(ctx context.Context, cs *checkout.Session, r, was checkoutSessionRow, rec idempotency.Record, a checkout.AnswerRecord) (bool, error) {
	return s.claimWriteFinishInTx(ctx, rec, a, func(ctx context.Context) error {
		res := s.conn(ctx).Model(&checkoutSessionRow{}).
			Where(byShopKey+" AND row_version = ? AND buyer_sealed IS ?", cs.ID, cs.ShopID, was.RowVersion, was.BuyerSealed).
			Updates(sessionWrite(r))
		if res.Error != nil {
			return translate(res.Error, "save checkout session")
		}
		if res.RowsAffected == 0 {
			return errSessionMoved
		}
		return nil
	})
}
