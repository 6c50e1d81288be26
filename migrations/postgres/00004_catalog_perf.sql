-- Catalog ingest at scale (docs/benchmarks.md). A full sync writes every
-- catalog row of a shop with COPY; the foreign keys to shops made
-- PostgreSQL run a referential-integrity check per row (about 30% of the
-- server's time for a million-variant sync). The sync now checks the shop
-- once per batch instead (it locks the shop row FOR KEY SHARE, as the
-- checks did), and deleting a shop still deletes its catalog, through a
-- trigger in place of ON DELETE CASCADE.

-- +goose Up
ALTER TABLE catalog_products DROP CONSTRAINT catalog_products_shop_id_fkey;
ALTER TABLE catalog_variants DROP CONSTRAINT catalog_variants_shop_id_fkey;
ALTER TABLE catalog_media DROP CONSTRAINT catalog_media_shop_id_fkey;
ALTER TABLE catalog_collections DROP CONSTRAINT catalog_collections_shop_id_fkey;

-- +goose StatementBegin
CREATE FUNCTION catalog_delete_shop() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM catalog_collections WHERE shop_id = OLD.id;
    DELETE FROM catalog_media WHERE shop_id = OLD.id;
    DELETE FROM catalog_variants WHERE shop_id = OLD.id;
    DELETE FROM catalog_products WHERE shop_id = OLD.id;
    RETURN OLD;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER shops_delete_catalog AFTER DELETE ON shops
    FOR EACH ROW EXECUTE FUNCTION catalog_delete_shop();

-- +goose Down
DROP TRIGGER shops_delete_catalog ON shops;
DROP FUNCTION catalog_delete_shop();
DELETE FROM catalog_collections WHERE shop_id NOT IN (SELECT id FROM shops);
DELETE FROM catalog_media WHERE shop_id NOT IN (SELECT id FROM shops);
DELETE FROM catalog_variants WHERE shop_id NOT IN (SELECT id FROM shops);
DELETE FROM catalog_products WHERE shop_id NOT IN (SELECT id FROM shops);
ALTER TABLE catalog_products ADD CONSTRAINT catalog_products_shop_id_fkey
    FOREIGN KEY (shop_id) REFERENCES shops (id) ON DELETE CASCADE;
ALTER TABLE catalog_variants ADD CONSTRAINT catalog_variants_shop_id_fkey
    FOREIGN KEY (shop_id) REFERENCES shops (id) ON DELETE CASCADE;
ALTER TABLE catalog_media ADD CONSTRAINT catalog_media_shop_id_fkey
    FOREIGN KEY (shop_id) REFERENCES shops (id) ON DELETE CASCADE;
ALTER TABLE catalog_collections ADD CONSTRAINT catalog_collections_shop_id_fkey
    FOREIGN KEY (shop_id) REFERENCES shops (id) ON DELETE CASCADE;
