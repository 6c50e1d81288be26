package emulator

import (
	"math"
	"time"
)

// bucket is Shopify's per app-and-shop leaky bucket of query cost points
// (docs/shopify.md §4.3): requested cost is taken up front, the difference to
// the actual cost is given back, and points restore at a fixed rate.
type bucket struct {
	max   float64
	rate  float64 // points per second
	avail float64
	last  time.Time
}

func newBucket(maxAvailable, restoreRate float64, now time.Time) bucket {
	return bucket{max: maxAvailable, rate: restoreRate, avail: maxAvailable, last: now}
}

// refill restores the points earned since the last look.
func (b *bucket) refill(now time.Time) {
	if d := now.Sub(b.last).Seconds(); d > 0 {
		b.avail = math.Min(b.max, b.avail+d*b.rate)
	}
	b.last = now
}

// take charges cost if that many points are available.
func (b *bucket) take(now time.Time, cost int) bool {
	b.refill(now)
	if float64(cost) > b.avail {
		return false
	}
	b.avail -= float64(cost)
	return true
}

// refund gives back points charged but not used.
func (b *bucket) refund(points int) {
	b.avail = math.Min(b.max, b.avail+float64(max(points, 0)))
}

// throttleStatus is extensions.cost.throttleStatus.
type throttleStatus struct {
	MaximumAvailable   float64 `json:"maximumAvailable"`
	CurrentlyAvailable int     `json:"currentlyAvailable"`
	RestoreRate        float64 `json:"restoreRate"`
}

func (b *bucket) status() throttleStatus {
	return throttleStatus{MaximumAvailable: b.max, CurrentlyAvailable: int(math.Floor(b.avail)), RestoreRate: b.rate}
}

// queryCost is extensions.cost; ActualQueryCost is null when throttled.
type queryCost struct {
	RequestedQueryCost int            `json:"requestedQueryCost"`
	ActualQueryCost    *int           `json:"actualQueryCost"`
	ThrottleStatus     throttleStatus `json:"throttleStatus"`
}
