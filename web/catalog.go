package web

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/catalog"
)

// CatalogService is the part of the catalog and feeds the embedded admin's
// API calls.
type CatalogService interface {
	StartSync(ctx context.Context, shop, reason string) (*app.CatalogSync, error)
	Status(ctx context.Context, shopID int64) (*catalog.CatalogStatus, error)
}

// syncJSON is a sync as the admin sees it.
type syncJSON struct {
	ID           int64  `json:"id"`
	Status       string `json:"status"`
	Reason       string `json:"reason"`
	RowsDone     int64  `json:"rows_done"`
	RowsExpected int64  `json:"rows_expected"`
	Products     int64  `json:"products"`
	Variants     int64  `json:"variants"`
	Error        string `json:"error,omitempty"`
	StartedAt    string `json:"started_at"`
	FinishedAt   string `json:"finished_at,omitempty"`
}

func toSyncJSON(sy *app.CatalogSync) *syncJSON {
	if sy == nil {
		return nil
	}
	out := &syncJSON{ID: sy.ID, Status: sy.Status, Reason: sy.Reason, RowsDone: sy.RowsDone, RowsExpected: sy.RowsExpected,
		Products: sy.Products, Variants: sy.Variants, Error: sy.Error, StartedAt: sy.CreatedAt.Format(timeFormat)}
	if sy.FinishedAt != nil {
		out.FinishedAt = sy.FinishedAt.Format(timeFormat)
	}
	return out
}

const timeFormat = "2006-01-02T15:04:05Z07:00"

// handleCatalogStatus reports the shop's last sync (with progress), its
// catalog size and its last feed build with problems grouped by field.
func (s *Server) handleCatalogStatus(c echo.Context) error {
	sh, err := s.adminShop(c)
	if err != nil {
		return err
	}
	st, err := s.catalog.Status(c.Request().Context(), sh.ID)
	if err != nil {
		return err
	}
	out := map[string]any{
		"shop": sh.Domain, "sync": toSyncJSON(st.Sync), "products": st.Products, "variants": st.Variants,
	}
	if b := st.Build; b != nil {
		build := map[string]any{
			"id": b.ID, "status": b.Status, "items_published": b.ItemsPublished, "items_invalid": b.ItemsInvalid,
			"items_excluded": b.ItemsExcluded, "warnings": b.Warnings, "note": b.Error,
			"started_at": b.StartedAt.Format(timeFormat), "problems_by_field": json.RawMessage(b.Summary),
		}
		if b.FinishedAt != nil {
			build["finished_at"] = b.FinishedAt.Format(timeFormat)
		}
		out["last_build"] = build
	}
	return c.JSON(http.StatusOK, out)
}

// handleSyncNow starts a full sync ("sync now"); 202 with the sync to poll.
func (s *Server) handleSyncNow(c echo.Context) error {
	sh, err := s.adminShop(c)
	if err != nil {
		return err
	}
	sy, err := s.catalog.StartSync(c.Request().Context(), sh.Domain, "manual")
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, toSyncJSON(sy))
}
