#include "core/pg_stats.h"

const char *const pg_drop_names[PG_DROP_MAX] = {
#define PG_DROP_NAME(name, text) #name,
	PG_DROP_REASONS(PG_DROP_NAME)
#undef PG_DROP_NAME
};

const char *const pg_drop_texts[PG_DROP_MAX] = {
#define PG_DROP_TEXT(name, text) text,
	PG_DROP_REASONS(PG_DROP_TEXT)
#undef PG_DROP_TEXT
};
