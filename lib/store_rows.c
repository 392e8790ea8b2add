/* The tables a fleet's copy moves, with their columns (lib/store_rows.h). */
#include "store_rows.h"

#define T BS_ROWS_TEXT
#define I BS_ROWS_INT
#define B BS_ROWS_BOOL
#define S BS_ROWS_BLOB
#define TABLE(var, table, key, cols) \
	static const bs_rows_table_t var = { table, key, cols, sizeof(cols) / sizeof(cols[0]) }

static const bs_rows_col_t channel_cols[] = {
	{ "id", T }, { "name", T }, { "metadata", T }, { "created_at", T },
	{ "updated_at", T },
};
TABLE(channels, "channels", "id", channel_cols);

static const bs_rows_col_t profile_cols[] = {
	{ "id", T }, { "name", T }, { "content", T }, { "channel_ids", T },
	{ "vars", T }, { "created_at", T }, { "updated_at", T },
};
TABLE(profiles, "profiles", "id", profile_cols);

static const bs_rows_col_t group_cols[] = {
	{ "id", T }, { "name", T }, { "profile", T }, { "channel_ids", T },
	{ "enable", B }, { "group_key", S }, { "created_at", T }, { "updated_at", T },
};
TABLE(groups, "enroll_groups", "id", group_cols);

static const bs_rows_col_t config_cols[] = {
	{ "external_id", T }, { "id", I }, { "client_id", T }, { "client_secret", S },
	{ "name", T }, { "external_key", S }, { "content", T }, { "client_cert", T },
	{ "client_key", S }, { "ca_cert", T }, { "enabled", B }, { "created_at", T },
	{ "updated_at", T }, { "channel_ids", T }, { "cert_serial", T },
	{ "cert_expires_at", T }, { "profile", T }, { "vars", T }, { "group_id", T },
};
TABLE(configs, "configs", "external_id", config_cols);

static const bs_rows_col_t link_cols[] = {
	{ "client_id", T }, { "position", I }, { "channel_id", T },
};
TABLE(links, "config_channels", "client_id, position", link_cols);

static const bs_rows_col_t boot_cols[] = { { "config_id", I }, { "at", I } };
TABLE(boots, "bootstraps", "config_id", boot_cols);

static const bs_rows_col_t gone_cols[] = { { "client_id", T }, { "deleted_at", T } };
TABLE(gone, "deleted_clients", "client_id", gone_cols);

static const bs_rows_col_t unknown_cols[] = {
	{ "external_id", T }, { "first_seen", I }, { "last_seen", I },
	{ "attempts", I }, { "address", T },
};
TABLE(unknown, "unknown_devices", "external_id", unknown_cols);

const bs_rows_table_t *const bs_rows_tables[] = {
	&channels, &profiles, &groups, &configs, &links, &boots, &gone, &unknown,
};
const size_t bs_rows_ntables = sizeof(bs_rows_tables) / sizeof(bs_rows_tables[0]);
