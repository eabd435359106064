/* syn-cookie: being written. */
