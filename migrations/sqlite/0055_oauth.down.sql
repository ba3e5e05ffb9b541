DROP TABLE oauth_login_codes;
DROP TABLE oauth_flows;
DROP TABLE oauth_accounts;
