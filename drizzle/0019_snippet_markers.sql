-- Search snippets mark matches with the control characters U+0002 and U+0003, so no stored search text may hold them:
-- they become spaces. The full-text tokenizer already treats both as separators, so the index stays as it is.
UPDATE `messages` SET `text` = replace(replace(`text`, char(2), ' '), char(3), ' ')
WHERE instr(`text`, char(2)) > 0 OR instr(`text`, char(3)) > 0;
