-- a duplicated or test database must neither hold the platforms' secrets nor pull
UPDATE social_source
   SET auth_login = NULL,
       auth_password = NULL,
       access_token = NULL,
       access_token_secret = NULL,
       api_key = NULL,
       api_secret = NULL,
       bearer_token = NULL,
       session_token = NULL,
       refresh_token = NULL,
       local_network = false,
       state = 'paused';
