-- 0024_between_operator — `between` becomes a listed filter operator: the HTTP API has accepted col=between:a,b on
-- every column that takes both lte and gte, but the catalog never listed it (the server added it on its own), so a
-- client reading a column's operators could not know. The catalog is now the one place that says which operators a
-- column takes; the server reads `between` from it like any other.

SET LOCAL ROLE klima_owner;

ALTER TABLE meta.dataset_columns DROP CONSTRAINT dataset_columns_operators_check;
ALTER TABLE meta.dataset_columns ADD CONSTRAINT dataset_columns_operators_check
    CHECK (operators <@ ARRAY['eq', 'ne', 'lt', 'lte', 'gt', 'gte', 'in', 'between']::text[]);

-- between a,b is lte and gte together: offered wherever both are
UPDATE meta.dataset_columns SET operators = operators || ARRAY['between']
WHERE operators @> ARRAY['lte', 'gte'] AND NOT operators @> ARRAY['between'];

RESET ROLE;
