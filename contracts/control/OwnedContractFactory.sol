// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import "./OwnedContract.sol";

/// @title OwnedContractFactory
/// @notice Creates OwnedContracts from inside a transaction, as factories do: no receipt
/// names the created contract, so its deployer cannot be found and only `owner()` proves
/// control of it.
contract OwnedContractFactory {
    event Created(address indexed created, address indexed owner);

    function create(address owner) external returns (address created) {
        created = address(new OwnedContract(owner));
        emit Created(created, owner);
    }
}
