-- Daily, weekly and monthly lists go by the day a paper was listed, or else the day it was
-- published; queries must spell the expression exactly like this to use the index.
CREATE INDEX papers_day ON papers (coalesce(listed, substr(published, 1, 10)), pk);
