// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title OwnedWallet
/// @notice The smallest smart-contract wallet that speaks EIP-1271: a signature is valid
/// when the wallet's owner (an ordinary key) signed the hash. The sign-in tests deploy it
/// on a local EVM to prove that contract wallets can sign in with SIWE.
contract OwnedWallet {
    bytes4 internal constant MAGIC_VALUE = 0x1626ba7e;
    bytes4 internal constant INVALID = 0xffffffff;

    address public immutable owner;

    constructor(address owner_) {
        owner = owner_;
    }

    function isValidSignature(bytes32 hash, bytes calldata signature)
        external
        view
        returns (bytes4)
    {
        if (signature.length != 65) {
            return INVALID;
        }
        bytes32 r;
        bytes32 s;
        uint8 v;
        assembly {
            r := calldataload(signature.offset)
            s := calldataload(add(signature.offset, 32))
            v := byte(0, calldataload(add(signature.offset, 64)))
        }
        address signer = ecrecover(hash, v, r, s);
        if (signer != address(0) && signer == owner) {
            return MAGIC_VALUE;
        }
        return INVALID;
    }
}
