package jobs

import (
	"context"
	"database/sql"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
)

// Metrics counts jobs for Prometheus: jobs this replica finished (by kind and
// outcome, with their run time), and, at scrape time, the jobs in the whole
// queue by kind and state, which every replica sees alike.
type Metrics struct {
	finished *prometheus.CounterVec
	duration *prometheus.HistogramVec
	db       *sql.DB
	queued   *prometheus.Desc
}

// NewMetrics registers the job metrics on reg.
func NewMetrics(reg prometheus.Registerer, db *sql.DB) *Metrics {
	m := &Metrics{
		finished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "acpbridge_jobs_finished_total",
			Help: "Jobs this replica finished working, by kind and outcome (completed, failed, cancelled, snoozed).",
		}, []string{"kind", "state"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "acpbridge_job_duration_seconds",
			Help:    "Time this replica spent working a job, by kind.",
			Buckets: prometheus.ExponentialBuckets(0.005, 4, 9),
		}, []string{"kind"}),
		db: db,
		queued: prometheus.NewDesc("acpbridge_jobs",
			"Jobs in the queue (all replicas) by kind and state.", []string{"kind", "state"}, nil),
	}
	reg.MustRegister(m.finished, m.duration, m)
	return m
}

func (m *Metrics) observe(ev *river.Event) {
	if ev.Job == nil {
		return
	}
	m.finished.WithLabelValues(ev.Job.Kind, string(ev.Job.State)).Inc()
	if ev.JobStats != nil {
		m.duration.WithLabelValues(ev.Job.Kind).Observe(ev.JobStats.RunDuration.Seconds())
	}
}

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) { ch <- m.queued }

// Collect implements prometheus.Collector: one grouped count over River's
// table. It is cheap at the sizes River keeps (finished jobs are pruned).
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	rows, err := m.db.QueryContext(ctx, "SELECT kind, state, count(*) FROM river_job GROUP BY kind, state")
	if err != nil {
		ch <- prometheus.NewInvalidMetric(m.queued, err)
		return
	}
	defer rows.Close()
	for rows.Next() {
		var kind, state string
		var n int64
		if err := rows.Scan(&kind, &state, &n); err != nil {
			ch <- prometheus.NewInvalidMetric(m.queued, err)
			return
		}
		ch <- prometheus.MustNewConstMetric(m.queued, prometheus.GaugeValue, float64(n), kind, state)
	}
	if err := rows.Err(); err != nil {
		ch <- prometheus.NewInvalidMetric(m.queued, err)
	}
}
